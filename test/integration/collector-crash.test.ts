/**
 * The gateway's durability contract, against the builder-made Collector and a
 * real broker: once the Collector answers an OTLP export 200, the spans are
 * in its persistent sending queue (file_storage), and they reach ClickHouse
 * even if the Collector is SIGKILLed while Kafka is unreachable and restarted
 * on the same queue directory.
 *
 * "Exactly once" here means what an analyst sees: the store's queries
 * (Queries.taskActions, which the API serves) return one row per span id.
 * A record the Collector had handed to Kafka just before a crash may be sent
 * again after the restart, and a consumer may read a record twice after a
 * rebalance; such copies may exist as physical rows until ClickHouse merges
 * them, and the test reports how many there were.
 *
 * Beside the durable gateway, a second Collector runs the same config with an
 * in-memory queue: the spans it answered 200 for are lost with it, which
 * shows the test can see a loss.
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
import { otlpProtoExport, startOwnKafka, uniqueTopic, waitFor, type OwnKafka } from '../support/kafka.js';
import { makeTrustDomain, type TestDomain } from '../support/keys.js';
import { metricSum } from '../support/processor-child.js';
import { startSingleProcessor, type SingleProcessor } from '../support/single-processor.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const REQUESTS = 12;
const SPANS_PER_REQUEST = 25;
/** About the size of an agent span carrying a delegation chain. */
const PAD = 2_000;

let skipReason: string | undefined;
let broker: OwnKafka | undefined;
let domain: TestDomain;
let root: string;
let topic: string;
const collectors: RunningCollector[] = [];
let processor: SingleProcessor | undefined;
const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

before(async () => {
  skipReason = await collectorUnavailable();
  if (skipReason) return;
  const own = await startOwnKafka();
  if (typeof own === 'string') {
    skipReason = own;
    return;
  }
  broker = own;
  topic = uniqueTopic('gateway-crash');
  await ensureTopics(broker.brokers, [{ topic, partitions: 2 }, { topic: `${topic}.dlq`, partitions: 1 }]);
  domain = await makeTrustDomain();
  root = mkdtempSync(join(tmpdir(), 'chainsight-collector-crash-'));
}, { timeout: 30 * 60_000 });

after(async () => {
  await Promise.allSettled(collectors.map((c) => c.kill()));
  await processor?.stop();
  await broker?.remove();
  await domain?.cleanup();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** gateway.yaml with the sending queue in memory: what the gateway was before file_storage. */
function inMemoryQueueConfig(): string {
  const yaml = readFileSync(resolve(repoRoot, 'collectors/gateway.yaml'), 'utf8');
  const withoutStorage = yaml.replace(/^\s+storage: file_storage\n/m, '');
  assert.notEqual(withoutStorage, yaml, 'gateway.yaml names file_storage as the queue storage');
  const path = join(root, 'gateway-memory-queue.yaml');
  writeFileSync(path, withoutStorage);
  return path;
}

let msgNo = 0;
/** Sends REQUESTS protobuf exports of one task; returns the span ids of those answered 200, and every status seen. */
async function sendTask(c: RunningCollector, taskId: string, requests = REQUESTS): Promise<{ accepted: string[]; statuses: number[] }> {
  const accepted: string[] = [];
  const statuses: number[] = [];
  for (let i = 0; i < requests; i++) {
    const { body, spanIds } = otlpProtoExport(++msgNo, SPANS_PER_REQUEST, taskId, PAD);
    const status = await postOtlpProto(c.tracesUrl, body);
    statuses.push(status);
    if (status === 200) accepted.push(...spanIds);
  }
  return { accepted, statuses };
}

function durable(queueDir: string): Promise<RunningCollector> {
  return startCollector({ kafkaBrokers: broker!.brokers, topic, queueDir, startTimeoutMs: 60_000 }).then((c) => (collectors.push(c), c));
}

async function exporterQueueSize(c: RunningCollector): Promise<number> {
  return metricSum(await (await fetch(c.metricsUrl)).text(), 'otelcol_exporter_queue_size', { exporter: 'kafka' });
}

test('SIGKILL twice and SIGTERM once while Kafka is unreachable: every span the gateway answered 200 for is stored once; an in-memory queue loses them', { timeout: 10 * 60_000 }, async (t) => {
  if (skipReason) return t.skip(skipReason);
  const queueDir = join(root, 'queue');
  const durableTask = uniqueTopic('durable-task');
  const volatileTask = uniqueTopic('volatile-task');

  await broker!.stop(); // Kafka unreachable from here on; its log (and the topic) stays on disk.

  const first = await durable(queueDir);
  const volatile = await startCollector({ kafkaBrokers: broker!.brokers, topic, configPath: inMemoryQueueConfig(), startTimeoutMs: 60_000 });
  collectors.push(volatile);
  const a = await sendTask(first, durableTask);
  const v = await sendTask(volatile, volatileTask);
  // Crash at once: nothing gets a chance to drain after the last 200.
  await Promise.all([first.kill(), volatile.kill()]);
  assert.deepEqual(new Set(a.statuses), new Set([200]), 'the durable gateway accepts while Kafka is down');
  assert.deepEqual(new Set(v.statuses), new Set([200]), 'so does the in-memory one');

  // Restarted on the same directory, still without Kafka: it resumes the queue, accepts more, and crashes again.
  const second = await durable(queueDir);
  const b = await sendTask(second, durableTask, 4);
  assert.ok((await exporterQueueSize(second)) > 0, 'the restarted gateway holds the queue in file_storage');
  await second.kill();

  // A graceful stop with Kafka still down keeps the queue as well: the send in progress ends as a shutdown, not a failure.
  const third = await durable(queueDir);
  const c = await sendTask(third, durableTask, 4);
  assert.deepEqual(await third.stop(30_000), { code: 0, signal: null }, 'a clean shutdown, not a kill after the grace period');

  const fourth = await durable(queueDir);
  await broker!.start();
  const accepted = [...a.accepted, ...b.accepted, ...c.accepted];
  assert.equal(accepted.length, (REQUESTS + 8) * SPANS_PER_REQUEST);

  processor = await startSingleProcessor({ brokers: broker!.brokers, topic, partitions: 2, dataDir: join(root, 'store'), trustDir: domain.dir, logger });
  const p = processor;
  const queries = p.consumer.pipeline.queries;
  await waitFor('every accepted span stored', async () => (await queries.taskActions(durableTask)).length >= accepted.length, 180_000);
  // Everything the gateway will ever send has been sent and consumed: its queue is empty and the group caught up.
  await waitFor('the gateway queue drained', async () => (await exporterQueueSize(fourth)) === 0, 60_000);
  await waitFor('the group committed up to the high watermarks', () => p.caughtUp(), 60_000);

  const stored = (await queries.taskActions(durableTask)).map((r) => r.span_id);
  assert.equal(new Set(stored).size, stored.length, 'one row per span in queries');
  assert.deepEqual(new Set(stored), new Set(accepted), 'exactly the spans answered 200');
  assert.deepEqual(await queries.taskActions(volatileTask), [], 'the in-memory queue lost every span it answered 200 for');

  const raw = await p.physicalRows(durableTask);
  t.diagnostic(`${accepted.length} spans accepted across two crashes and a stop; ${raw} physical rows (${raw - accepted.length} redelivered copies); ${v.accepted.length} spans lost by the in-memory queue`);
});
