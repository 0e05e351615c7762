/**
 * The scale path's emitter proof, with the builder-made Collector: agents send
 * OTLP with a JWT-SVID bearer token to the gateway (collectors/gateway.yaml +
 * gateway-bearer.yaml), which copies the Authorization header into each Kafka
 * record; the processor verifies it and holds each span's agent to it, as
 * the receiver does. Domain co.com requires proof (`either`).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { SignJWT } from 'jose';
import { createLogger } from '../../src/runtime/logger.js';
import { agentSpanAttributes } from '../../src/sdk/telemetry.js';
import { collectorUnavailable, startCollector, type RunningCollector } from '../support/collector.js';
import { kafkaBrokers, releaseKafka, uniqueTopic, waitFor } from '../support/kafka.js';
import { makeTrustDomain, standardChain, TASK, type TestDomain } from '../support/keys.js';
import { recordSpans, serializeSpans } from '../support/otel.js';
import { startSingleProcessor, type SingleProcessor } from '../support/single-processor.js';

let brokers: string[] = [];
let skipReason: string | undefined;
let domain: TestDomain;
let dataDir: string;
let jwtKey: KeyObject;
let proc: SingleProcessor | undefined;
let collector: RunningCollector | undefined;

before(async () => {
  const found = await kafkaBrokers();
  if (typeof found === 'string') {
    skipReason = found;
    return;
  }
  brokers = found;
  skipReason = await collectorUnavailable();
  domain = await makeTrustDomain();
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  jwtKey = privateKey;
  const bundlePath = join(domain.dir, 'co.com.jwks.json');
  const bundle = JSON.parse(readFileSync(bundlePath, 'utf8')) as { keys: unknown[] };
  bundle.keys.push({ ...(publicKey.export({ format: 'jwk' }) as object), kid: 'jwt-1', use: 'jwt-svid', alg: 'ES256' });
  writeFileSync(bundlePath, JSON.stringify(bundle));
  dataDir = mkdtempSync(join(tmpdir(), 'chainsight-collector-bearer-'));
}, { timeout: 30 * 60_000 });

after(async () => {
  await collector?.stop();
  await proc?.stop();
  await domain?.cleanup();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  await releaseKafka();
});

function jwtSvid(sub: string, aud = 'chainsight'): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub, aud }).setProtectedHeader({ alg: 'ES256', kid: 'jwt-1' }).setIssuedAt(now).setExpirationTime(now + 600).sign(jwtKey);
}

async function post(url: string, name: string, agentId: string, chain: string[], bearer?: string): Promise<number> {
  const spans = await recordSpans({ 'service.name': 'agent' }, (tracer) => {
    tracer.startSpan(name, { attributes: agentSpanAttributes({ chain, taskId: TASK, agentId, agentName: 'x', operation: 'execute_tool', toolName: 'describe', scopesUsed: ['cloud:read'] }) }).end();
  });
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: serializeSpans(spans, 'protobuf'),
    signal: AbortSignal.timeout(60_000),
  });
  await res.arrayBuffer();
  return res.status;
}

test('a JWT-SVID sent to the Collector reaches the processor through Kafka and proves (or disproves) each span\'s sender', { timeout: 35 * 60_000 }, async (t) => {
  if (skipReason) return t.skip(skipReason);
  const topic = uniqueTopic('bearer');
  process.env.CHAINSIGHT_EMITTER_AUTH = 'default=none,co.com=either';
  try {
    proc = await startSingleProcessor({ brokers, topic, partitions: 2, dataDir, trustDir: domain.dir, logger: createLogger('silent') });
  } finally {
    delete process.env.CHAINSIGHT_EMITTER_AUTH;
  }
  collector = await startCollector({ kafkaBrokers: brokers, topic, overlays: [resolve('collectors/gateway-bearer.yaml')], startTimeoutMs: 60_000 });
  const chain = await standardChain(domain);
  const scanner = domain.id('scanner');
  const cases: Array<[string, string, string | undefined, string[]]> = [
    ['kafka-a-claims-a', scanner, await jwtSvid(scanner), []],
    ['kafka-a-claims-b', domain.id('planner'), await jwtSvid(scanner), ['agent.not_sender']],
    ['kafka-no-token', scanner, undefined, ['agent.unauthenticated']],
    ['kafka-bad-token', scanner, await jwtSvid(scanner, 'someone-else'), ['agent.unauthenticated']],
  ];
  for (const [name, agent, token] of cases) assert.equal(await post(collector.tracesUrl, name, agent, chain, token), 200, name);

  const db = proc.config.store.database;
  const read = async () => {
    const rs = await proc!.consumer.pipeline.readerClient.query({
      query: `SELECT name, peer_id, reasons FROM ${db}.actions WHERE task_id = {task:String}`,
      query_params: { task: TASK },
      format: 'JSONEachRow',
    });
    return (await rs.json()) as Array<{ name: string; peer_id: string; reasons: string[] }>;
  };
  await waitFor('every span stored', async () => new Set((await read()).map((r) => r.name)).size >= cases.length, 60_000);
  const rows = new Map((await read()).map((r) => [r.name, r]));
  for (const [name, , token, expected] of cases) {
    const row = rows.get(name)!;
    assert.deepEqual(row.reasons.filter((r) => r === 'agent.not_sender' || r === 'agent.unauthenticated'), expected, `${name}: ${row.reasons.join()}`);
    assert.equal(row.peer_id, token && expected[0] !== 'agent.unauthenticated' ? scanner : '', name);
  }
});
