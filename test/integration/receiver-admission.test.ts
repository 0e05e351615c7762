/**
 * Admission control over real HTTP, into the real pipeline on chdb: a small
 * in-flight budget, requests beyond it throttled with 429 + Retry-After
 * (before their bodies are read when their length is declared, as they grow
 * when chunked), the budget given back on every path including clients that
 * vanish mid-body, and every span answered 200 found in the store.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { RpcStatus } from '../../src/ingest/otlp/schema.js';
import { RPC_CODE } from '../../src/ingest/otlp/responses.js';
import { DEFAULT_EXPANSION } from '../../src/ingest/admission.js';
import { createLogger } from '../../src/runtime/logger.js';
import { type RunningServer, startServer } from '../../src/runtime/server.js';
import { otlpProtoExport, waitFor } from '../support/kafka.js';
import { metricSum } from '../support/processor-child.js';

const SPANS = 200;
/** One 200-span request and what the receiver accounts for it. */
const requestBytes = otlpProtoExport(0, SPANS).body.length;
const requestCost = requestBytes * (1 + DEFAULT_EXPANSION);
/** Room for three requests at a time, not four. */
const BUDGET = Math.floor(requestCost * 3.5);

/** Throttles at once (no wait for room): what is refused, and when, is then deterministic. */
let server: RunningServer;
/** The default behaviour: a request that does not fit waits up to 10 s for room. */
let waiting: RunningServer;
let dataDir: string;
let target: URL;
let msgNo = 0;

async function start(database: string, waitMs: number): Promise<RunningServer> {
  const trustDir = mkdtempSync(join(dataDir, 'trust-'));
  const config = loadConfig(
    {
      CLICKHOUSE_URL: process.env.CLICKHOUSE_URL ?? '',
      CHAINSIGHT_DATABASE: `${database}_${process.pid}`,
      CHAINSIGHT_MAX_INFLIGHT_BYTES: String(BUDGET),
      CHAINSIGHT_ADMISSION_WAIT_MS: String(waitMs),
    },
    { data: dataDir, trustDir, otlpPort: 0, apiPort: 0 },
  );
  return startServer(config, createLogger('silent'));
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'chainsight-admission-'));
  server = await start('admission_now', 0);
  waiting = await start('admission_wait', 10_000);
  target = new URL(`${server.otlpUrl}/v1/traces`);
});

after(async () => {
  await server.stop();
  await waiting.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  retryAfter: string | undefined;
  body: Buffer;
}

/** A request whose body the test writes itself: all at once, in pieces, or never finished. */
function open(headers: http.OutgoingHttpHeaders, to = target): { req: http.ClientRequest; answer: Promise<Answer> } {
  const req = http.request(to, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', ...headers }, agent: false });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'], body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  return { req, answer };
}

function send(body: Buffer, to = target): Promise<Answer> {
  const { req, answer } = open({ 'content-length': body.length }, to);
  req.end(body);
  return answer;
}

function nextExport(): { body: Buffer; spanIds: string[] } {
  return otlpProtoExport(++msgNo, SPANS, 'task-admission');
}

async function inflightBytes(): Promise<number> {
  const text = await (await fetch(`${server.apiUrl}/metrics`)).text();
  return metricSum(text, 'chainsight_otlp_inflight_bytes');
}

function assertThrottled(a: Answer): void {
  assert.equal(a.status, 429);
  assert.equal(a.retryAfter, '1');
  const status = RpcStatus.decode(a.body);
  assert.equal(status.code, RPC_CODE.resourceExhausted);
  assert.match(status.message, /retry later/);
}

describe('admission control on the OTLP receiver', () => {
  it('throttles concurrent requests beyond the budget, recovers, and loses nothing answered 200', async () => {
    const before = await server.pipeline.queries.countActions();
    const exports = Array.from({ length: 40 }, nextExport);
    const answers = await Promise.all(exports.map((e) => send(e.body)));
    const ok = answers.filter((a) => a.status === 200).length;
    const throttled = answers.filter((a) => a.status === 429);
    assert.equal(ok + throttled.length, answers.length, `unexpected statuses ${answers.map((a) => a.status).join(',')}`);
    assert.ok(ok >= 3, `only ${ok} admitted`);
    assert.ok(throttled.length > 0, 'nothing was throttled');
    for (const t of throttled) assertThrottled(t);
    // Every request answered 200 is stored; the throttled ones are not.
    assert.equal(await server.pipeline.queries.countActions(), before + ok * SPANS);
    assert.equal(await inflightBytes(), 0);

    // Recovers by itself: the throttled requests, retried as an exporter would, are all admitted.
    const retried = exports.filter((_, i) => answers[i]!.status === 429);
    for (const e of retried) assert.equal((await send(e.body)).status, 200);
    assert.equal(await server.pipeline.queries.countActions(), before + exports.length * SPANS);
  });

  it('refuses before the body is read: 429 while the budget is held, 413 when it could never fit', async () => {
    // Hold most of the budget with three requests that declared their length and send only part of it.
    const holders = Array.from({ length: 3 }, () => {
      const e = nextExport();
      const h = open({ 'content-length': e.body.length });
      h.req.write(e.body.subarray(0, 100));
      return { ...h, rest: e.body.subarray(100) };
    });
    await waitFor('the holders to be admitted', async () => (await inflightBytes()) >= 3 * requestCost, 10_000);

    // Headers only: the answer comes without a byte of body sent.
    const waiting = open({ 'content-length': requestBytes });
    waiting.req.flushHeaders();
    assertThrottled(await waiting.answer);
    waiting.req.destroy();

    const huge = open({ 'content-length': BUDGET });
    huge.req.flushHeaders();
    const refused = await huge.answer;
    assert.equal(refused.status, 413);
    assert.match(RpcStatus.decode(refused.body).message, /whole budget/);
    huge.req.destroy();

    for (const h of holders) h.req.end(h.rest);
    for (const h of holders) assert.equal((await h.answer).status, 200);
    await waitFor('the budget to be free', async () => (await inflightBytes()) === 0, 10_000);
  });

  it('refuses a chunked body as it grows past the budget, and admits it once room is back', async () => {
    const holder = nextExport();
    const held = open({ 'content-length': holder.body.length });
    held.req.write(holder.body.subarray(0, 10));
    await waitFor('the holder to be admitted', async () => (await inflightBytes()) >= requestCost, 10_000);

    // A chunked body of three requests' size does not fit beside the holder.
    const big = Buffer.concat([nextExport().body, nextExport().body, nextExport().body]);
    const chunked = open({ 'transfer-encoding': 'chunked' });
    let written = 0;
    let answer: Answer | undefined;
    void chunked.answer.then((a) => (answer = a));
    while (written < big.length && answer === undefined) {
      chunked.req.write(big.subarray(written, written + 16_384));
      written += 16_384;
      await new Promise((r) => setTimeout(r, 5));
    }
    answer ??= await chunked.answer;
    assertThrottled(answer);
    assert.ok(written < big.length, 'refused only after the whole body was sent');
    chunked.req.destroy();

    held.req.end(holder.body.subarray(10));
    assert.equal((await held.answer).status, 200);
    await waitFor('the budget to be free', async () => (await inflightBytes()) === 0, 10_000);
    // Alone now, the same chunked body fits (three requests' cost within 3.5). Concatenated
    // protobuf messages are one message with the repeated fields joined: 600 spans.
    const stored = await server.pipeline.queries.countActions();
    const again = open({ 'transfer-encoding': 'chunked' });
    again.req.end(big);
    assert.equal((await again.answer).status, 200);
    assert.equal(await server.pipeline.queries.countActions(), stored + 3 * SPANS);
  });

  it('by default a request that does not fit waits for room instead of being throttled', async () => {
    const to = new URL(`${waiting.otlpUrl}/v1/traces`);
    const before = await waiting.pipeline.queries.countActions();
    const exports = Array.from({ length: 20 }, nextExport);
    const answers = await Promise.all(exports.map((e) => send(e.body, to)));
    assert.deepEqual(answers.map((a) => a.status), exports.map(() => 200));
    assert.equal(await waiting.pipeline.queries.countActions(), before + exports.length * SPANS);
  });

  it('gives the budget back when clients vanish mid-body', async () => {
    const before = await server.pipeline.queries.countActions();
    const aborted = Array.from({ length: 3 }, () => {
      const e = nextExport();
      const h = open({ 'content-length': e.body.length });
      h.answer.catch(() => undefined);
      h.req.write(e.body.subarray(0, 1000));
      return h;
    });
    await waitFor('the requests to be admitted', async () => (await inflightBytes()) >= 3 * requestCost, 10_000);
    for (const h of aborted) h.req.destroy();
    await waitFor('the budget to be free', async () => (await inflightBytes()) === 0, 10_000);
    // The whole budget is usable again: three full requests at once.
    const answers = await Promise.all([nextExport(), nextExport(), nextExport()].map((e) => send(e.body)));
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200]);
    assert.equal(await server.pipeline.queries.countActions(), before + 3 * SPANS);
  });
});
