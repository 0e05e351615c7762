/**
 * The Kafka path, against a real broker of the test's own with real OTel SDK
 * spans: the received time is the message timestamp (what the Collector's
 * producer sets), not the consumer's clock; and a revocation reaches every
 * member of a consumer group.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Partitioners } from 'kafkajs';
import { ensureTopics } from '../../src/ingest/kafka-source.js';
import { createLogger } from '../../src/runtime/logger.js';
import { agentSpanAttributes } from '../../src/sdk/telemetry.js';
import { startOwnKafka, testKafka, uniqueTopic, waitFor, type OwnKafka } from '../support/kafka.js';
import { makeTrustDomain, standardChain, TASK, type TestDomain } from '../support/keys.js';
import { recordSpans, serializeSpans } from '../support/otel.js';
import { startSingleProcessor, type SingleProcessor } from '../support/single-processor.js';
import { startProcessorGroup, type ProcessorGroup } from '../support/processor-group.js';

const MIN = 60_000;
let kafka: OwnKafka | undefined;
let skipReason: string | undefined;
let domain: TestDomain;
let dataDir: string;
let processor: SingleProcessor | undefined;
let group: ProcessorGroup | undefined;

before(async () => {
  const k = await startOwnKafka();
  if (typeof k === 'string') skipReason = k;
  else kafka = k;
  domain = await makeTrustDomain();
  dataDir = mkdtempSync(join(tmpdir(), 'chainsight-kafka-time-'));
});

after(async () => {
  await processor?.stop();
  await group?.stop();
  await kafka?.remove();
  await domain?.cleanup();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** One OTLP/protobuf message holding one scanner span that starts at startMs under chain. */
async function message(name: string, chain: string[], startMs: number, taskId = TASK): Promise<Buffer> {
  const spans = await recordSpans({ 'service.name': 'scanner', 'gen_ai.agent.id': domain.id('scanner') }, (tracer) => {
    const attributes = agentSpanAttributes({ chain, taskId, agentId: domain.id('scanner'), agentName: 'scanner', operation: 'execute_tool', toolName: 'describe', scopesUsed: ['cloud:read'], resource: name });
    tracer.startSpan(name, { attributes, startTime: new Date(startMs) }).end(new Date(startMs + 1000));
  });
  return Buffer.from(serializeSpans(spans, 'protobuf'));
}

test('the message timestamp bounds the span start, capped at the consumer clock', { timeout: 10 * 60_000 }, async (t) => {
  if (skipReason || !kafka) return t.skip(skipReason);
  const brokers = kafka.brokers;
  const topic = uniqueTopic('received-time');
  await ensureTopics(brokers, [{ topic, partitions: 1 }, { topic: `${topic}.dlq`, partitions: 1 }]);
  processor = await startSingleProcessor({ brokers, topic, partitions: 1, dataDir, trustDir: domain.dir, logger: createLogger('silent') });

  const now = Date.now();
  const hourAgo = await standardChain(domain, { now: now - 70 * MIN });
  const expired = await standardChain(domain, { now: now - 185 * MIN });
  const cases = [
    // Sent (by the producer's clock) 4 h ago: a span starting 1 h ago started after it was sent.
    { name: 'sent-before-it-started', ts: now - 240 * MIN, start: now - 60 * MIN, chain: hourAgo, expect: ['time.start_in_future'] },
    // The same span sent 30 s ago: an hour-long span reported as it ended.
    { name: 'sent-just-now', ts: now - 30_000, start: now - 60 * MIN, chain: hourAgo, expect: [] },
    // Backdated 3 h into an expired chain's validity.
    { name: 'backdated', ts: now - 30_000, start: now - 180 * MIN, chain: expired, expect: ['time.start_too_old'] },
    // A producer clock 50 min ahead (brokers refuse more than an hour by default) is capped at the
    // consumer's: a span dated 40 min ahead is still in the future.
    { name: 'producer-clock-ahead', ts: now + 50 * MIN, start: now + 40 * MIN, chain: hourAgo, expect: ['time.expired', 'time.start_in_future'] },
  ];
  const producer = testKafka(brokers).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: await Promise.all(cases.map(async (c) => ({ value: await message(c.name, c.chain, c.start), timestamp: String(c.ts) }))) });
  } finally {
    await producer.disconnect();
  }
  const queries = processor.consumer.pipeline.queries;
  await waitFor('every span stored', async () => (await queries.taskActions(TASK)).length === cases.length, 120_000);
  const byName = new Map((await queries.taskActions(TASK)).map((a) => [a.resource, a]));
  for (const c of cases) {
    const a = byName.get(c.name)!;
    assert.deepEqual([...new Set(a.reasons)].sort(), c.expect, c.name);
    assert.equal(a.verdict, c.expect.length ? 'failed' : 'verified', c.name);
  }
});

test('a revocation reaches every member of a consumer group: spans on every partition fail after it', { timeout: 10 * 60_000 }, async (t) => {
  if (skipReason || !kafka) return t.skip(skipReason);
  const PARTITIONS = 4;
  const g = (group = await startProcessorGroup({ brokers: kafka.brokers, dataDir, trustDir: domain.dir, logger: createLogger('silent'), partitions: PARTITIONS, members: 2, topicPrefix: 'revocation' }));
  const task = TASK; // the chain's; this group writes to a database of its own
  const chain = await standardChain(domain, { now: Date.now() - MIN });
  const send = async (prefix: string) => {
    const producer = testKafka(kafka!.brokers).producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      const messages = await Promise.all(Array.from({ length: PARTITIONS }, async (_, p) => ({ partition: p, value: await message(`${prefix}-${p}`, chain, Date.now(), task) })));
      await producer.send({ topic: g.config.kafka.topic, acks: -1, messages });
    } finally {
      await producer.disconnect();
    }
  };
  const stored = async (prefix: string) => {
    await waitFor(`${prefix} spans stored`, async () => (await g.queries.taskActions(task)).filter((a) => a.resource.startsWith(prefix)).length === PARTITIONS, 120_000);
    return (await g.queries.taskActions(task)).filter((a) => a.resource.startsWith(prefix));
  };
  await send('before');
  for (const a of await stored('before')) assert.equal(a.verdict, 'verified', `${a.resource}: ${a.reason_details.join('; ')}`);

  const t0 = performance.now();
  const r = await g.members[0]!.pipeline.revocations.store.revoke({ kind: 'agent', target: domain.id('inventory'), reason: 'compromised', revokedBy: 'soc' });
  const lags = await Promise.all(g.members.map(async (m) => {
    while (!m.pipeline.revocations.watcher.current().revocations.some((x) => x.id === r.id)) await new Promise((res) => setTimeout(res, 5));
    return performance.now() - t0;
  }));
  t.diagnostic(`revocation applied by the members after ${lags.map((l) => l.toFixed(0)).join(' and ')} ms`);

  await send('after');
  const after = await stored('after');
  // Each member owns two of the four partitions: every span failing shows both applied it.
  for (const a of after) {
    assert.equal(a.verdict, 'failed', a.resource);
    assert.deepEqual(a.reasons, ['revoked.agent', 'revoked.agent'], `${a.resource}: the agent is delegatee of link 1 and delegator of link 2`);
  }
  for (const a of await stored('before')) assert.equal(a.verdict, 'verified', 'earlier spans keep their verdict');
});
