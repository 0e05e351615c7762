/**
 * Poison isolation on the OTLP/HTTP path, end to end on chdb: hostile spans
 * sent at the same moment as valid traffic (so they share group-committed
 * INSERTs) never cost a valid span its 200 or its row; repaired spans are
 * stored flagged; spans the store still refuses are answered 200 with
 * partial_success naming them and are found in the quarantine table.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { loadConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/runtime/server.js';
import { createLogger } from '../../src/runtime/logger.js';
import { agentSpanAttributes, withTask } from '../../src/sdk/telemetry.js';
import { ExportTraceServiceResponse } from '../../src/ingest/otlp/schema.js';
import { RAW_VALUE_KEYS } from '../../src/ingest/otlp/mapping.js';
import { findQuarantined } from '../../src/store/quarantine.js';
import { makeTrustDomain, standardChain, TASK, type TestDomain } from '../support/keys.js';
import { recordSpans, serializeSpans, startTestAgent, type Encoding } from '../support/otel.js';
import { hostileCases, jsonBody, protobufBody, refusingConstraint, REFUSED_NAME, storedRows, type HostileCase } from '../support/hostile.js';
import { metricSum } from '../support/processor-child.js';

const VALID_TASK = TASK;
const HOSTILE_TASK = 'task-hostile';
const REQUESTS = 120;
const SPANS_PER_REQUEST = 4;

let server: RunningServer;
let domain: TestDomain;
let dataDir: string;
let chain: string[];

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'chainsight-poison-'));
  domain = await makeTrustDomain();
  chain = await standardChain(domain, { now: Date.now() - 60_000 });
  // Batches linger a little so that concurrent requests really share INSERTs.
  const config = loadConfig({ ...process.env, CHAINSIGHT_BATCH_DELAY_MS: '20' }, { data: dataDir, trustDir: domain.dir, otlpPort: 0, apiPort: 0 });
  if (process.env.CLICKHOUSE_URL) config.store.database = `poison_${process.pid}`;
  server = await startServer(config, createLogger('silent'));
  await server.pipeline.writerClient.command({ query: refusingConstraint(server.pipeline.database) });
});

after(async () => {
  await server.stop();
  await domain.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  rejected: number;
  message: string;
}

async function post(body: Uint8Array, encoding: Encoding): Promise<Answer> {
  const res = await fetch(`${server.otlpUrl}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': encoding === 'json' ? 'application/json' : 'application/x-protobuf' },
    body: Buffer.from(body),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) return { status: res.status, rejected: -1, message: bytes.toString() };
  if (encoding === 'json') {
    const p = (JSON.parse(bytes.toString()) as { partialSuccess?: { rejectedSpans?: string; errorMessage?: string } }).partialSuccess;
    return { status: 200, rejected: Number(p?.rejectedSpans ?? 0), message: p?.errorMessage ?? '' };
  }
  const p = ExportTraceServiceResponse.toObject(ExportTraceServiceResponse.decode(bytes), { longs: Number }) as { partialSuccess?: { rejectedSpans?: number; errorMessage?: string } };
  return { status: 200, rejected: p.partialSuccess?.rejectedSpans ?? 0, message: p.partialSuccess?.errorMessage ?? '' };
}

async function validSpans(): Promise<ReadableSpan[]> {
  const agentId = domain.id('scanner');
  return recordSpans({ 'service.name': 'scanner', 'gen_ai.agent.id': agentId }, (tracer) =>
    withTask(VALID_TASK, () => {
      for (let i = 0; i < REQUESTS * SPANS_PER_REQUEST; i++) {
        tracer.startSpan('execute_tool describe', { attributes: agentSpanAttributes({ chain, taskId: VALID_TASK, agentId, agentName: 'scanner', operation: 'execute_tool', toolName: 'describe', scopesUsed: ['cloud:read'], resource: `vm-${i}` }) }).end();
      }
    }),
  );
}

test('hostile spans beside valid traffic: every valid request 200 and stored, hostile ones flagged or quarantined, never 503', async () => {
  const spans = await validSpans();
  const validRequests = Array.from({ length: REQUESTS }, (_, i) => {
    const encoding: Encoding = i % 2 === 0 ? 'protobuf' : 'json';
    return { encoding, body: serializeSpans(spans.slice(i * SPANS_PER_REQUEST, (i + 1) * SPANS_PER_REQUEST), encoding) };
  });
  // Every hostile case alone in its own request, in each encoding it can travel in, spread among the valid ones.
  const hostile: Array<{ c: HostileCase; encoding: Encoding; body: Uint8Array }> = [];
  for (const [n, encoding] of [[1, 'json'], [2, 'protobuf']] as const) {
    for (const c of hostileCases(HOSTILE_TASK, n)) {
      if (c.jsonOnly && encoding === 'protobuf') continue;
      hostile.push({ c, encoding, body: encoding === 'json' ? jsonBody([c.span]) : protobufBody([c.span]) });
    }
  }
  // And one request mixing a valid span with a refused one: only the refused one is named.
  const [mixedValid, mixedBad] = hostileCases(HOSTILE_TASK, 3).filter((c) => c.name === 'time 0' || c.expect === 'refused');
  const mixed = post(jsonBody([mixedValid!.span, mixedBad!.span]), 'json');

  // Hostile requests spread among the valid ones, all in flight at once, so they share INSERTs.
  type Sent = { kind: 'valid' | 'hostile'; encoding: Encoding; body: Uint8Array; c?: HostileCase };
  const all: Sent[] = validRequests.map((r) => ({ kind: 'valid', ...r }));
  hostile.forEach((h, j) => all.splice(Math.floor(((j + 1) * all.length) / (hostile.length + 1)), 0, { kind: 'hostile', ...h }));
  const answers = await Promise.all(all.map((x) => post(x.body, x.encoding)));
  const mixedAnswer = await mixed;

  all.forEach((x, i) => {
    const a = answers[i]!;
    const what = x.c ? `${x.c.name} (${x.encoding})` : `valid request ${i}`;
    assert.equal(a.status, 200, `${what}: ${a.status} ${a.message}`);
    assert.equal(a.rejected, x.c?.expect === 'refused' ? 1 : 0, `${what}: ${a.message}`);
    if (x.c?.expect === 'refused') assert.match(a.message, new RegExp(`${String(x.c.span.traceId)}/${String(x.c.span.spanId)}`));
  });
  assert.equal(mixedAnswer.status, 200);
  assert.equal(mixedAnswer.rejected, 1);
  assert.match(mixedAnswer.message, /VIOLATED_CONSTRAINT/);
  assert.match(mixedAnswer.message, new RegExp(String(mixedBad!.span.spanId)));
  assert.doesNotMatch(mixedAnswer.message, new RegExp(String(mixedValid!.span.spanId)));

  // Every valid span is stored, verified.
  const valid = await storedRows(server.pipeline.readerClient, server.pipeline.database, VALID_TASK);
  assert.equal(valid.size, REQUESTS * SPANS_PER_REQUEST);
  for (const r of valid.values()) assert.equal(r.verdict, 'verified', r.reasons.join(','));

  // Hostile spans: flagged ones stored with the reason and the raw time; repaired ones stored; refused ones quarantined.
  const stored = await storedRows(server.pipeline.readerClient, server.pipeline.database, HOSTILE_TASK);
  for (const { c, encoding } of hostile) {
    const row = stored.get(String(c.span.spanId));
    const what = `${c.name} (${encoding})`;
    if (c.expect === 'refused') {
      assert.equal(row, undefined, what);
      const [q] = await findQuarantined(server.pipeline.readerClient, server.pipeline.database, { traceId: String(c.span.traceId) });
      assert.ok(q, `${what}: quarantined`);
      assert.equal(q.error_code, 'VIOLATED_CONSTRAINT');
      assert.equal(q.span_id, c.span.spanId);
      assert.equal(q.task_id, HOSTILE_TASK);
      assert.equal((JSON.parse(q.row) as { name: string }).name, REFUSED_NAME);
      continue;
    }
    assert.ok(row, `${what}: stored`);
    if (c.expect === 'flagged') {
      assert.equal(row.verdict, 'failed', what);
      assert.ok(row.reasons.includes('span.time_out_of_range'), `${what}: ${row.reasons.join(',')}`);
      assert.ok(row.attributes[RAW_VALUE_KEYS.startTime] ?? row.attributes[RAW_VALUE_KEYS.endTime], `${what}: raw time kept`);
    } else assert.ok(!row.reasons.includes('span.time_out_of_range'), what);
  }
  // The analyst API finds them too, and takes its filters as parameters only.
  const api = async (q: string) => (await (await fetch(`${server.apiUrl}/api/quarantine?${q}`)).json()) as { quarantined: Array<{ span_id: string; error_code: string }> };
  const byTask = await api(`task=${HOSTILE_TASK}`);
  assert.equal(byTask.quarantined.length, 3);
  assert.ok(byTask.quarantined.every((q) => q.error_code === 'VIOLATED_CONSTRAINT'));
  assert.equal((await api(`task=${encodeURIComponent("x' OR 1=1 --")}`)).quarantined.length, 0);
  assert.equal((await fetch(`${server.apiUrl}/api/quarantine?limit=lots`)).status, 400);

  const metrics = await server.pipeline.metrics.registry.metrics();
  assert.equal(metricSum(metrics, 'chainsight_otlp_requests_total', { status: '503' }), 0);
  assert.equal(metricSum(metrics, 'chainsight_quarantined_rows_total', { destination: 'table' }), 3);
  assert.equal(metricSum(metrics, 'chainsight_store_refused_rows_total', { code: 'VIOLATED_CONSTRAINT' }), 3);
});

test('a real OTel exporter sending a span from the year 2300 gets it stored, flagged', async () => {
  const agent = startTestAgent({ serviceName: 'time-traveller', agentId: domain.id('scanner'), url: `${server.otlpUrl}/v1/traces`, encoding: 'protobuf' });
  withTask('task-2300', () => {
    agent.tracer.startSpan('execute_tool far-future', { startTime: [10413792000, 0], attributes: agentSpanAttributes({ chain, taskId: 'task-2300', agentId: domain.id('scanner'), agentName: 'scanner', operation: 'execute_tool', scopesUsed: ['cloud:read'] }) }).end();
  });
  await agent.forceFlush();
  await agent.shutdown();
  const [row] = (await storedRows(server.pipeline.readerClient, server.pipeline.database, 'task-2300')).values();
  assert.ok(row);
  assert.equal(row.verdict, 'failed');
  assert.ok(row.reasons.includes('span.time_out_of_range'));
  assert.equal(row.attributes[RAW_VALUE_KEYS.startTime], '10413792000000000000');
  const metrics = await server.pipeline.metrics.registry.metrics();
  assert.equal(metricSum(metrics, 'chainsight_otlp_requests_total', { status: '503' }), 0);
});
