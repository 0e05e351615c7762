/**
 * The gateway's size limits, against the builder-made Collector and a real
 * broker. A request the gateway answers 200 for must fit every later hop:
 * its Kafka record under the producer's max_message_bytes, the record batch
 * under the topic's max.message.bytes. A request too big for that chain is
 * refused at the door (4xx, which the exporter does not retry), never
 * accepted and then dropped.
 *
 * Span padding is random, so compression cannot hide a size from the broker.
 * The failing case runs the gateway with the producer's old 1,000,000-byte
 * limit: the 500-span trace is answered 200 and then dropped as a permanent
 * error.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { ensureTopics } from '../../src/ingest/kafka-source.js';
import { createLogger } from '../../src/runtime/logger.js';
import { collectorUnavailable, postOtlpProto, startCollector, type RunningCollector } from '../support/collector.js';
import { kafkaBrokers, otlpProtoExport, releaseKafka, uniqueTopic, waitFor } from '../support/kafka.js';
import { makeTrustDomain, type TestDomain } from '../support/keys.js';
import { metricSum } from '../support/processor-child.js';
import { startSingleProcessor, type SingleProcessor } from '../support/single-processor.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Bytes of random padding per span: 500 such spans make the 1.26 MB request an SDK sends. */
const PAD = 2_400;

let skipReason: string | undefined;
let brokers: string[] = [];
let domain: TestDomain;
let root: string;
let topic: string;
const collectors: RunningCollector[] = [];
let processor: SingleProcessor | undefined;
const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

before(async () => {
  const found = await kafkaBrokers();
  if (typeof found === 'string') {
    skipReason = found;
    return;
  }
  brokers = found;
  skipReason = await collectorUnavailable();
  if (skipReason) return;
  topic = uniqueTopic('gateway-limits');
  await ensureTopics(brokers, [{ topic, partitions: 2 }, { topic: `${topic}.dlq`, partitions: 1 }]);
  domain = await makeTrustDomain();
  root = mkdtempSync(join(tmpdir(), 'chainsight-collector-limits-'));
  processor = await startSingleProcessor({ brokers, topic, partitions: 2, dataDir: join(root, 'store'), trustDir: domain.dir, logger });
}, { timeout: 30 * 60_000 });

after(async () => {
  await Promise.allSettled(collectors.map((c) => c.stop()));
  await processor?.stop();
  await domain?.cleanup();
  if (root) rmSync(root, { recursive: true, force: true });
  await releaseKafka();
});

let msgNo = 1_000;
/** One trace of `spans` padded spans in one protobuf export; its status, wire size and span ids. */
async function sendTrace(c: RunningCollector, taskId: string, spans: number): Promise<{ status: number; bytes: number; spanIds: string[] }> {
  const { body, spanIds } = otlpProtoExport(++msgNo, spans, taskId, PAD);
  return { status: await postOtlpProto(c.tracesUrl, body), bytes: body.length, spanIds };
}

async function collectorMetric(c: RunningCollector, name: string): Promise<number> {
  const text = await (await fetch(c.metricsUrl)).text();
  return metricSum(text, name, { exporter: 'kafka' }) + metricSum(text, `${name}_total`, { exporter: 'kafka' });
}

test('a 500-span trace (1.26 MB) and a 3,000-span trace (7.9 MB) reach the store; a request over 8 MiB is refused with a 4xx', { timeout: 5 * 60_000 }, async (t) => {
  if (skipReason) return t.skip(skipReason);
  const gateway = await startCollector({ kafkaBrokers: brokers, topic, startTimeoutMs: 60_000 });
  collectors.push(gateway);
  const taskId = uniqueTopic('big-traces');
  const sdkSized = await sendTrace(gateway, taskId, 500);
  const large = await sendTrace(gateway, taskId, 3_000);
  assert.ok(sdkSized.bytes > 1_200_000 && sdkSized.bytes < 1_400_000, `500 spans are ${sdkSized.bytes} bytes`);
  assert.ok(large.bytes > 7_000_000 && large.bytes < 8 * 1024 * 1024, `3,000 spans are ${large.bytes} bytes`);
  assert.equal(sdkSized.status, 200);
  assert.equal(large.status, 200);

  const tooBig = await sendTrace(gateway, taskId, 3_600);
  assert.ok(tooBig.bytes > 8 * 1024 * 1024);
  assert.ok(tooBig.status >= 400 && tooBig.status < 500 && tooBig.status !== 429, `a ${tooBig.bytes}-byte request is refused, not throttled (got ${tooBig.status})`);

  const expected = new Set([...sdkSized.spanIds, ...large.spanIds]);
  const queries = processor!.consumer.pipeline.queries;
  await waitFor('both traces stored', async () => (await queries.taskActions(taskId)).length >= expected.size, 120_000);
  const stored = (await queries.taskActions(taskId)).map((a) => a.span_id);
  assert.deepEqual(new Set(stored), expected);
  assert.equal(stored.length, expected.size);
  assert.equal(await collectorMetric(gateway, 'otelcol_exporter_send_failed_spans'), 0, 'nothing dropped on the way to Kafka');
  t.diagnostic(`stored ${sdkSized.bytes}- and ${large.bytes}-byte requests; a ${tooBig.bytes}-byte one got ${tooBig.status}`);
});

test("failing case: with the producer's old 1,000,000-byte limit the 500-span trace is answered 200, then dropped", { timeout: 5 * 60_000 }, async (t) => {
  if (skipReason) return t.skip(skipReason);
  const yaml = readFileSync(resolve(repoRoot, 'collectors/gateway.yaml'), 'utf8');
  const oldLimit = yaml.replace(/max_message_bytes: \d+/, 'max_message_bytes: 1000000');
  assert.notEqual(oldLimit, yaml, 'gateway.yaml sets max_message_bytes');
  const configPath = join(root, 'gateway-old-limit.yaml');
  writeFileSync(configPath, oldLimit);
  const gateway = await startCollector({ kafkaBrokers: brokers, topic, configPath, startTimeoutMs: 60_000 });
  collectors.push(gateway);

  const taskId = uniqueTopic('dropped-trace');
  const sent = await sendTrace(gateway, taskId, 500);
  assert.equal(sent.status, 200, 'accepted at the door');
  await waitFor('the exporter to give up on the record', async () => (await collectorMetric(gateway, 'otelcol_exporter_send_failed_spans')) >= 500, 60_000);
  assert.match(gateway.logs(), /kafka record exceeds max message size/);
  await waitFor('the processor caught up', () => processor!.caughtUp(), 30_000);
  assert.deepEqual(await processor!.consumer.pipeline.queries.taskActions(taskId), [], 'accepted, yet never stored');
});
