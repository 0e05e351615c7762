/**
 * The spine end to end on the embedded store: agents using the real OTel SDK
 * and OTLP/HTTP exporters (protobuf and JSON) → receiver → verification →
 * chdb → query API.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind, context, trace } from '@opentelemetry/api';
import { loadConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/runtime/server.js';
import { createLogger } from '../../src/runtime/logger.js';
import { agentSpanAttributes, withTask } from '../../src/sdk/telemetry.js';
import { makeTrustDomain, standardChain, HUMAN, TASK, type TestDomain } from '../support/keys.js';
import { startTestAgent, serializeSpans, recordSpans } from '../support/otel.js';
import type { TaskTree } from '../../src/serve/tree.js';
import type { ActionView } from '../../src/store/queries.js';

let server: RunningServer;
let domain: TestDomain;
let dataDir: string;
let chain: string[];

async function json<T>(path: string): Promise<T> {
  const res = await fetch(server.apiUrl + path);
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return (await res.json()) as T;
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'chainsight-e2e-'));
  domain = await makeTrustDomain();
  chain = await standardChain(domain, { now: Date.now() - 60_000 });
  const config = loadConfig({ ...process.env, CLICKHOUSE_URL: process.env.CLICKHOUSE_URL ?? '' }, { data: dataDir, trustDir: domain.dir, otlpPort: 0, apiPort: 0 });
  if (process.env.CLICKHOUSE_URL) config.store.database = `e2e_${process.pid}`;
  server = await startServer(config, createLogger('silent'));
});

after(async () => {
  await server.stop();
  await domain.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test('agents exporting protobuf and JSON are verified, correlated and treed', async () => {
  const scanner = startTestAgent({ serviceName: 'scanner', agentId: domain.id('scanner'), url: `${server.otlpUrl}/v1/traces`, encoding: 'protobuf' });
  const scannerJson = startTestAgent({ serviceName: 'scanner', agentId: domain.id('scanner'), url: `${server.otlpUrl}/v1/traces`, encoding: 'json', compression: 'gzip' });
  const base = { chain, taskId: TASK, agentId: domain.id('scanner'), agentName: 'scanner', operation: 'execute_tool' };
  withTask(TASK, () => {
    const root = scanner.tracer.startSpan('invoke_agent scanner', { kind: SpanKind.SERVER, attributes: agentSpanAttributes({ ...base, operation: 'invoke_agent' }) });
    const ctx = trace.setSpan(context.active(), root);
    for (let i = 0; i < 5; i++) {
      scanner.tracer.startSpan('execute_tool describe', { attributes: agentSpanAttributes({ ...base, toolName: 'describe', scopesUsed: ['cloud:read'], resource: `vm-${i}` }) }, ctx).end();
    }
    for (let i = 0; i < 3; i++) {
      scannerJson.tracer.startSpan('execute_tool list', { attributes: agentSpanAttributes({ ...base, toolName: 'list', scopesUsed: ['cloud:read'], resource: `bucket-${i}` }) }, ctx).end();
    }
    // Beyond its grant: cloud:read only.
    scannerJson.tracer.startSpan('execute_tool delete', { attributes: agentSpanAttributes({ ...base, toolName: 'delete', scopesUsed: ['cloud:delete'], resource: 'bucket-0' }) }, ctx).end();
    root.end();
  });
  await Promise.all([scanner.forceFlush(), scannerJson.forceFlush()]);
  await Promise.all([scanner.shutdown(), scannerJson.shutdown()]);

  const tree = await json<TaskTree>(`/api/tasks/${TASK}/tree`);
  assert.equal(tree.total, 10);
  assert.equal(tree.verified, 9);
  assert.equal(tree.failed, 1);
  assert.deepEqual(tree.failuresByReason, { 'scope.exceeded': 1 });
  assert.equal(tree.rootHuman, HUMAN);
  assert.equal(tree.purpose, 'quarterly infrastructure review');
  // human → planner → inventory → scanner
  const planner = tree.agents[0]!;
  assert.equal(planner.agentId, domain.id('planner'));
  const scannerNode = planner.delegates[0]!.delegates[0]!;
  assert.equal(scannerNode.agentId, domain.id('scanner'));
  assert.equal(scannerNode.actions, 10);
  assert.equal(scannerNode.actionTree.length, 1, 'one invoke_agent root');
  assert.equal(scannerNode.actionTree[0]!.children.length, 9, 'tools nest under it across both exporters');

  const text = await (await fetch(`${server.apiUrl}/api/tasks/${TASK}/tree?format=text`)).text();
  assert.match(text, /Total: 10 actions across 1 agent/);
  assert.match(text, /scope\.exceeded/);
});

test('an export delivered twice is stored once', async () => {
  const spans = await recordSpans({ 'service.name': 'scanner' }, (tracer) => {
    for (let i = 0; i < 4; i++) tracer.startSpan('execute_tool x', { attributes: agentSpanAttributes({ chain, taskId: 'task-twice', agentId: domain.id('scanner'), agentName: 'scanner', operation: 'execute_tool', toolName: 'x', scopesUsed: ['cloud:read'] }) }).end();
  });
  const body = serializeSpans(spans, 'json');
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${server.otlpUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(res.status, 200);
  }
  const { actions } = await json<{ actions: ActionView[] }>('/api/tasks/task-twice/actions');
  assert.equal(actions.length, 4);
  // The chain was granted for another task: replaying it here is caught.
  assert.ok(actions.every((a) => a.verdict === 'failed' && a.reasons.includes('task.mismatch')));
});

test('spans with a missing or forged chain are stored with failing verdicts, never dropped', async () => {
  const forged = [...chain.slice(0, -1), chain[chain.length - 1]!.slice(0, -4) + 'AAAA'];
  const spans = await recordSpans({ 'service.name': 'rogue' }, (tracer) => {
    tracer.startSpan('execute_tool a', { attributes: { 'chainsight.task.id': 'task-bad', 'gen_ai.agent.id': domain.id('scanner'), 'gen_ai.operation.name': 'execute_tool', 'chainsight.scope.used': ['cloud:read'] } }).end();
    tracer.startSpan('execute_tool b', { attributes: agentSpanAttributes({ chain: forged, taskId: 'task-bad', agentId: domain.id('scanner'), agentName: 'scanner', operation: 'execute_tool', toolName: 'b', scopesUsed: ['cloud:read'] }) }).end();
    tracer.startSpan('execute_tool c', { attributes: { 'chainsight.task.id': 'task-bad', 'chainsight.delegation.chain': 'not-an-array', 'gen_ai.agent.id': domain.id('scanner') } }).end();
  });
  const res = await fetch(`${server.otlpUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: serializeSpans(spans, 'protobuf') });
  assert.equal(res.status, 200);
  const { actions } = await json<{ actions: ActionView[] }>('/api/tasks/task-bad/actions');
  const byName = new Map(actions.map((a) => [a.name, a]));
  assert.deepEqual(byName.get('execute_tool a')?.reasons, ['chain.missing']);
  assert.ok(byName.get('execute_tool b')?.reasons.includes('signature.invalid'));
  // No operation either: every check that needs no link is still reported.
  assert.deepEqual(byName.get('execute_tool c')?.reasons, ['chain.malformed', 'span.operation_missing']);
  const failed = await json<{ tasks: Array<{ task_id: string; failed: number }> }>('/api/tasks?verdict=failed');
  assert.equal(failed.tasks.find((t) => t.task_id === 'task-bad')?.failed, 3);
});

test('an undecodable body gets 400 with a reason, is counted, and loses nothing accepted', async () => {
  const before = await json<TaskTree>(`/api/tasks/${TASK}/tree`);
  const res = await fetch(`${server.otlpUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"resourceSpans": [ {' });
  assert.equal(res.status, 400);
  assert.match(await res.text(), /./);
  const after = await json<TaskTree>(`/api/tasks/${TASK}/tree`);
  assert.equal(after.total, before.total);
  const metrics = await (await fetch(`${server.apiUrl}/metrics`)).text();
  assert.match(metrics, /chainsight_otlp_requests_total\{status="400",encoding="json"\} [1-9]/);
  assert.match(metrics, /chainsight_verdict_reasons_total\{reason="scope.exceeded"\} [1-9]/);
  assert.match(metrics, /chainsight_store_write_seconds_count\{table="actions"\} [1-9]/);
});

test('the query API filters tasks and refuses bad parameters', async () => {
  const byHuman = await json<{ tasks: Array<{ task_id: string }> }>(`/api/tasks?human=${encodeURIComponent(HUMAN)}`);
  assert.ok(byHuman.tasks.some((t) => t.task_id === TASK));
  const nobody = await json<{ tasks: unknown[] }>('/api/tasks?human=nobody%40example.com');
  assert.equal(nobody.tasks.length, 0);
  assert.equal((await fetch(`${server.apiUrl}/api/tasks?verdict=maybe`)).status, 400);
  assert.equal((await fetch(`${server.apiUrl}/api/tasks?from=yesterday`)).status, 400);
  // Times the store's DateTime64 cannot compare (past 2262, unsafe integers) are the caller's error, not the engine's.
  for (const q of ['/api/tasks?from=253402300800000', '/api/tasks?to=99999999999999999999', '/api/graph?from=8640000000000000', '/api/alerts?since=253402300800000']) {
    assert.equal((await fetch(`${server.apiUrl}${q}`)).status, 400, q);
  }
  assert.equal((await fetch(`${server.apiUrl}/api/tasks?from=${Date.UTC(2261, 0, 1)}`)).status, 200, 'the last year the store holds');
  assert.equal((await fetch(`${server.apiUrl}/api/tasks/no-such-task/tree`)).status, 404);
  const dels = await json<{ delegations: Array<{ delegator: string; delegatee: string; valid: boolean }> }>(`/api/agents/${encodeURIComponent(domain.id('inventory'))}/delegations`);
  const valid = dels.delegations.filter((d) => d.valid);
  assert.equal(valid.length, 2, 'received from the planner, gave to the scanner');
  assert.deepEqual(new Set(valid.map((d) => d.delegator)), new Set([domain.id('planner'), domain.id('inventory')]));
  // The forged copy of the inventory agent's link is recorded too, marked invalid.
  assert.equal(dels.delegations.filter((d) => !d.valid).length, 1);
});
