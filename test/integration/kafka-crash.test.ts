/**
 * Processor instances as separate processes (`chainsight consume`), SIGKILLed
 * and restarted mid-stream while a producer sends spans steadily. When the
 * group has settled, nothing may be missing and nothing may be extra.
 *
 * Each instance has its own embedded store (chdb locks a data directory per
 * process), restarted on the same directory like a pod on its volume. With
 * CLICKHOUSE_URL set, all instances share that server instead and the test
 * asserts the strict form: the deduplicating queries return every span
 * exactly once.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { Partitioners } from 'kafkajs';
import { ensureTopics } from '../../src/ingest/kafka-source.js';
import { agentSpanAttributes } from '../../src/sdk/telemetry.js';
import { openClient } from '../../src/store/client.js';
import { Queries } from '../../src/store/queries.js';
import { mintTaskChains, resource } from '../support/agent-tasks.js';
import { committedOffsets, highWatermarks, kafkaBrokers, releaseKafka, testKafka, uniqueTopic, waitFor } from '../support/kafka.js';
import { makeTrustDomain, type TestDomain } from '../support/keys.js';
import { recordSpans, serializeSpans } from '../support/otel.js';
import { metricSum, readStoreInChild, startProcessorChild, type ProcessorChild, type StoredAction } from '../support/processor-child.js';

const INSTANCES = 3;
const PARTITIONS = 6;
const TASKS = 4;
const SPANS_PER_TASK = 5_000;
const SPANS_PER_MESSAGE = 20;
/** Messages per send and the pause between sends: 1,000 messages over roughly 20 s. */
const MESSAGES_PER_SEND = 25;
const SEND_EVERY_MS = 500;
const MIN_KILL_GAP_MS = 2_000;
/** Which instance each SIGKILL hits: instance-0 twice, the second time after its restart on the same directory. */
const KILL_ORDER = [0, 1, 0, 2];
const KILLS = KILL_ORDER.length;

let brokers: string[] = [];
let skipReason: string | undefined;
let domain: TestDomain;
let root: string;
const children: (ProcessorChild | undefined)[] = [];

before(async () => {
  const found = await kafkaBrokers();
  if (typeof found === 'string') skipReason = found;
  else brokers = found;
  domain = await makeTrustDomain();
  root = mkdtempSync(join(tmpdir(), 'chainsight-kafka-crash-'));
});

after(async () => {
  // Even when the test failed half-way: no processor may outlive it.
  await Promise.allSettled(children.map((c) => c?.kill()));
  await domain?.cleanup();
  if (root) rmSync(root, { recursive: true, force: true });
  await releaseKafka();
});

const keyOf = (a: { trace_id: string; span_id: string }): string => `${a.trace_id}/${a.span_id}`;

test('SIGKILLed and restarted processor instances lose nothing and the stores hold every span sent', { timeout: 240_000 }, async (t) => {
  if (skipReason) return t.skip(skipReason);
  const topic = uniqueTopic('crash');
  const groupId = uniqueTopic('crash-processors');
  const database = `crash_${process.pid}_${Date.now().toString(36)}`;
  await ensureTopics(brokers, [
    { topic, partitions: PARTITIONS },
    { topic: `${topic}.dlq`, partitions: 1 },
  ]);

  // The load: real SDK spans under real chains, one chain per task, cut into small OTLP/protobuf messages.
  const taskIds = Array.from({ length: TASKS }, () => uniqueTopic('crash-task'));
  const sentKeys = new Set<string>();
  const messages: Buffer[] = [];
  for (const taskId of taskIds) {
    const chain = (await mintTaskChains(domain, taskId)).planner;
    const spans = await recordSpans(resource(domain, 'planner'), (tracer) => {
      for (let i = 0; i < SPANS_PER_TASK; i++) {
        tracer.startSpan('execute_tool describe_instances', {
          kind: SpanKind.INTERNAL,
          attributes: agentSpanAttributes({ chain, taskId, agentId: domain.id('planner'), agentName: 'planner', operation: 'execute_tool', toolName: 'describe_instances', scopesUsed: ['cloud:read'], resource: `vm-${i}` }),
        }).end();
      }
    });
    for (const s of spans) sentKeys.add(`${s.spanContext().traceId}/${s.spanContext().spanId}`);
    for (let i = 0; i < spans.length; i += SPANS_PER_MESSAGE) messages.push(Buffer.from(serializeSpans(spans.slice(i, i + SPANS_PER_MESSAGE), 'protobuf')));
  }
  assert.equal(sentKeys.size, TASKS * SPANS_PER_TASK);

  const dataDirs = Array.from({ length: INSTANCES }, (_, i) => join(root, `instance-${i}`));
  const envOf = (i: number): Record<string, string> => ({
    KAFKA_BROKERS: brokers.join(','),
    CHAINSIGHT_KAFKA_TOPIC: topic,
    CHAINSIGHT_KAFKA_DLQ_TOPIC: `${topic}.dlq`,
    CHAINSIGHT_KAFKA_GROUP: groupId,
    CHAINSIGHT_KAFKA_PARTITIONS: String(PARTITIONS),
    // The broker's smallest allowed session: a killed member's partitions move on after ~6 s.
    CHAINSIGHT_KAFKA_SESSION_TIMEOUT_MS: '6000',
    CHAINSIGHT_KAFKA_HEARTBEAT_MS: '500',
    CHAINSIGHT_API_PORT: '0',
    CHAINSIGHT_DATA_DIR: dataDirs[i]!,
    CHAINSIGHT_TRUST_DIR: domain.dir,
    CHAINSIGHT_DATABASE: database,
  });
  for (const dir of dataDirs) mkdirSync(dir, { recursive: true });
  for (let i = 0; i < INSTANCES; i++) children[i] = await startProcessorChild(`instance-${i}`, envOf(i));

  // Steady load from a producer in this process.
  const producer = testKafka(brokers).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  let sentMessages = 0;
  const production = (async () => {
    try {
      for (let i = 0; i < messages.length; i += MESSAGES_PER_SEND) {
        const batch = messages.slice(i, i + MESSAGES_PER_SEND).map((value, j) => ({ value, partition: (i + j) % PARTITIONS }));
        await producer.send({ topic, acks: -1, messages: batch });
        sentMessages += batch.length;
        await new Promise((r) => setTimeout(r, SEND_EVERY_MS));
      }
    } finally {
      await producer.disconnect();
    }
  })();
  let producing = true;
  void production.then(() => (producing = false), () => (producing = false));

  // Kill instances one after another, each only once it has committed offsets since it (re)started, so
  // the kill lands on a member that holds partitions and has work in flight; restart it on its own data
  // directory, as a pod comes back on its volume.
  const kills: { instance: number; sentBefore: number; commitsBefore: number; midStream: boolean }[] = [];
  await waitFor('the producer to be under way', () => sentMessages >= messages.length / 10, 60_000);
  let lastKill = 0;
  for (let k = 0; k < KILLS; k++) {
    const i = KILL_ORDER[k]!;
    const target = children[i]!;
    await new Promise((r) => setTimeout(r, Math.max(0, lastKill + MIN_KILL_GAP_MS - Date.now())));
    let commits = 0;
    await waitFor(`${target.name} to commit offsets`, async () => (commits = metricSum(await target.metrics(), 'chainsight_kafka_commits_total')) > 0, 30_000);
    const sentBefore = sentMessages;
    await target.kill();
    lastKill = Date.now();
    kills.push({ instance: i, sentBefore, commitsBefore: commits, midStream: producing });
    children[i] = await startProcessorChild(`instance-${i}`, envOf(i));
  }
  await production;
  assert.ok(kills.filter((k) => k.midStream).length >= 2, `kills while the producer was still sending: ${JSON.stringify(kills)}`);
  t.diagnostic(`kills: ${kills.map((k) => `instance-${k.instance} after ${k.sentBefore}/${messages.length} messages, ${k.commitsBefore} commits`).join('; ')}`);

  // Settled: every partition's committed offset has reached its high watermark.
  await waitFor('the group to commit everything produced', async () => {
    const [committed, high] = await Promise.all([committedOffsets(brokers, groupId, topic), highWatermarks(brokers, topic)]);
    return [...high].every(([p, hw]) => committed.get(p) === hw);
  }, 90_000);
  const high = await highWatermarks(brokers, topic);
  assert.equal([...high.values()].reduce((a, b) => a + b, 0), messages.length, 'every message produced once');

  // A clean stop: each instance leaves the group, flushes and closes its store.
  const codes = await Promise.all(children.map((c) => c!.stop()));
  assert.deepEqual(codes, children.map(() => 0), 'every instance stopped cleanly');

  if (process.env.CLICKHOUSE_URL) {
    // One shared server: the deduplicating queries must return every span exactly once.
    const client = openClient({ database, target: { kind: 'server', url: process.env.CLICKHOUSE_URL, username: process.env.CLICKHOUSE_USER, password: process.env.CLICKHOUSE_PASSWORD } });
    try {
      const queries = new Queries(client, database);
      const stored: string[] = [];
      for (const taskId of taskIds) {
        const actions = await queries.taskActions(taskId);
        assert.ok(actions.every((a) => a.verdict === 'verified'));
        stored.push(...actions.map(keyOf));
      }
      assert.equal(stored.length, new Set(stored).size, 'no span returned twice');
      assert.deepEqual(new Set(stored), sentKeys, 'stored spans equal the spans sent');
      assert.equal(await queries.countActions(), sentKeys.size);
    } finally {
      await client.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => undefined);
      await client.close();
    }
    return;
  }

  // chdb: each instance's store, read by a short-lived reader process once its writer is gone.
  const dumps = [];
  for (const dir of dataDirs) dumps.push(await readStoreInChild(dir, database, taskIds));
  const holders = new Map<string, number>();
  for (const [i, dump] of dumps.entries()) {
    const keys = dump.actions.map(keyOf);
    assert.equal(new Set(keys).size, keys.length, `instance-${i}: the deduplicating query returned a span twice`);
    assert.equal(dump.countActions, keys.length, `instance-${i}: countActions agrees with the task queries`);
    const foreign = keys.filter((k) => !sentKeys.has(k));
    assert.deepEqual(foreign, [], `instance-${i}: spans that were never sent`);
    const unverified = dump.actions.filter((a: StoredAction) => a.verdict !== 'verified');
    assert.equal(unverified.length, 0, `instance-${i}: every span carries a valid chain`);
    for (const k of keys) holders.set(k, (holders.get(k) ?? 0) + 1);
  }
  const missing = [...sentKeys].filter((k) => !holders.has(k));
  assert.equal(missing.length, 0, `spans lost: ${missing.slice(0, 5).join(', ')}`);
  assert.equal(holders.size, sentKeys.size);

  // The at-least-once window: a killed instance had stored batches it had not committed yet. After the
  // rebalance whoever took its partitions read them again: another instance (the span then sits in two
  // stores) or the restarted one on its own directory (two rows in one store, folded by the queries).
  const acrossInstances = [...holders.values()].filter((n) => n > 1).length;
  const withinStores = dumps.reduce((n, d) => n + d.rawRows - d.countActions, 0);
  t.diagnostic(`per instance: ${dumps.map((d, i) => `instance-${i} ${d.countActions} spans (${d.rawRows} rows)`).join(', ')}`);
  t.diagnostic(`redelivered after kills: ${acrossInstances} spans stored by two instances, ${withinStores} rows stored twice by the same instance (not yet merged away)`);
});
