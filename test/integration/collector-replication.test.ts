/**
 * Replication as docker-compose.yml sets it up, on a real three-node KRaft
 * cluster (scripts/kafka.sh with KAFKA_NODES=3) behind the builder-made
 * Collector, which produces with acks=all:
 *
 * - topics with replication factor 3 and min.insync.replicas 2 keep taking
 *   the gateway's records, and the processor keeps storing them, while one
 *   broker is down;
 * - the failing case: with min.insync.replicas 3, the same outage makes the
 *   leader refuse every acks=all write (NotEnoughReplicasException). The gateway
 *   still answers 200, holds the spans in its queue, and delivers them once
 *   the broker is back: an acknowledged record is always on as many
 *   brokers as min.insync.replicas says.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ensureTopics } from '../../src/ingest/kafka-source.js';
import { resolveTopicDurability } from '../../src/ingest/kafka-durability.js';
import { createLogger } from '../../src/runtime/logger.js';
import { collectorUnavailable, postOtlpProto, startCollector, type RunningCollector } from '../support/collector.js';
import { highWatermarks, otlpDecoder, otlpProtoExport, readTopic, startOwnKafka, testKafka, uniqueTopic, waitFor, type OwnKafka } from '../support/kafka.js';
import { makeTrustDomain, type TestDomain } from '../support/keys.js';
import { metricSum } from '../support/processor-child.js';
import { startSingleProcessor, type SingleProcessor } from '../support/single-processor.js';

let skipReason: string | undefined;
let cluster: OwnKafka | undefined;
let domain: TestDomain;
let root: string;
const collectors: RunningCollector[] = [];
let processor: SingleProcessor | undefined;
const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

before(async () => {
  skipReason = await collectorUnavailable();
  if (skipReason) return;
  const own = await startOwnKafka(3);
  if (typeof own === 'string') {
    skipReason = own;
    return;
  }
  cluster = own;
  domain = await makeTrustDomain();
  root = mkdtempSync(join(tmpdir(), 'chainsight-collector-replication-'));
}, { timeout: 30 * 60_000 });

after(async () => {
  await Promise.allSettled(collectors.map((c) => c.stop()));
  await processor?.stop();
  await cluster?.remove();
  await domain?.cleanup();
  if (root) rmSync(root, { recursive: true, force: true });
});

let msgNo = 5_000;
async function send(c: RunningCollector, taskId: string, requests: number): Promise<string[]> {
  const accepted: string[] = [];
  for (let i = 0; i < requests; i++) {
    const { body, spanIds } = otlpProtoExport(++msgNo, 10, taskId, 500);
    assert.equal(await postOtlpProto(c.tracesUrl, body), 200, 'the gateway accepts');
    accepted.push(...spanIds);
  }
  return accepted;
}

async function replicaCounts(brokers: string[], topic: string): Promise<number[]> {
  const admin = testKafka(brokers).admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0]!.partitions.map((p) => p.replicas.length);
  } finally {
    await admin.disconnect();
  }
}

const records = async (brokers: string[], topic: string): Promise<number> => [...(await highWatermarks(brokers, topic)).values()].reduce((a, b) => a + b, 0);

test('RF 3 / min.insync.replicas 2 keeps storing with a broker down; min.insync.replicas 3 refuses acks=all writes until it is back, and the gateway holds them', { timeout: 10 * 60_000 }, async (t) => {
  if (skipReason) return t.skip(skipReason);
  const brokers = cluster!.brokers;
  const compose = uniqueTopic('rf3-isr2');
  const strict = uniqueTopic('rf3-isr3');
  assert.deepEqual(await ensureTopics(brokers, [{ topic: compose, partitions: 2 }], { durability: resolveTopicDurability({ replicationFactor: 3 }) }), []);
  await ensureTopics(brokers, [{ topic: strict, partitions: 1 }], { durability: resolveTopicDurability({ replicationFactor: 3, minInsyncReplicas: 3 }) });
  assert.deepEqual(await replicaCounts(brokers, compose), [3, 3], 'every partition on the three brokers');

  processor = await startSingleProcessor({ brokers, topic: compose, partitions: 2, dataDir: join(root, 'store'), trustDir: domain.dir, logger });
  const toCompose = await startCollector({ kafkaBrokers: brokers, topic: compose, startTimeoutMs: 60_000 });
  const toStrict = await startCollector({ kafkaBrokers: brokers, topic: strict, startTimeoutMs: 60_000 });
  collectors.push(toCompose, toStrict);

  await cluster!.stopNode(3);

  const taskId = uniqueTopic('one-broker-down');
  const accepted = await send(toCompose, taskId, 5);
  const queries = processor.consumer.pipeline.queries;
  await waitFor('the spans stored with one broker down', async () => (await queries.taskActions(taskId)).length >= accepted.length, 120_000);
  assert.deepEqual(new Set((await queries.taskActions(taskId)).map((a) => a.span_id)), new Set(accepted));

  const held = await send(toStrict, uniqueTopic('held'), 3);
  // franz-go retries the broker's NOT_ENOUGH_REPLICAS until the exporter's timeout, so the gateway logs a
  // deadline; the refusal itself is in the leader's log.
  await waitFor('the leader to refuse the acks=all write', () => new RegExp(`NotEnoughReplicasException.*${strict}|${strict}.*NotEnoughReplicasException`).test(cluster!.serverLogs()), 60_000);
  await waitFor('the gateway to schedule a retry', () => /Exporting failed\. Will retry/.test(toStrict.logs()), 60_000);
  assert.equal(await records(brokers, strict), 0, 'nothing acknowledged below min.insync.replicas');
  const queued = metricSum(await (await fetch(toStrict.metricsUrl)).text(), 'otelcol_exporter_queue_size', { exporter: 'kafka' });
  assert.ok(queued > 0, 'the gateway holds the spans');

  await cluster!.startNode(3);
  await waitFor('the held spans written once the third replica is back in sync', async () => (await records(brokers, strict)) > 0, 120_000);
  const messages = await readTopic(brokers, strict, await records(brokers, strict));
  const delivered = messages.flatMap((m) => otlpDecoder(m.value ?? Buffer.alloc(0), 'protobuf').spans.map((s) => s.spanId));
  assert.deepEqual(new Set(delivered), new Set(held));
  t.diagnostic(`${accepted.length} spans stored with node 3 down; ${held.length} spans held, then delivered in ${messages.length} records`);
});
