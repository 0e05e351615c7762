/**
 * Kafka → ClickHouse, one processor instance (startConsumer, the production
 * wiring), in one process with its store (chdb in a temp dir, or CLICKHOUSE_URL):
 *  a/b. the same spans fed to the same pipeline in-process, and drained from a
 *       4-partition gzip topic, alternated round by round → spans/s, spans per
 *       CPU-second, and the ratio;
 *  c.   time to drain a backlog of 1M distinct spans;
 *  d.   consumer lag and end-to-end delay under a steady producer (a child
 *       process) at a fraction of the backlog drain rate.
 * Needs KAFKA_BROKERS (scripts/kafka.sh start). Knobs: BENCH_KAFKA_ROUNDS,
 * BENCH_KAFKA_ROUND_SPANS, BENCH_KAFKA_BACKLOG_SPANS, BENCH_KAFKA_STEADY_SECONDS,
 * BENCH_KAFKA_STEADY_LOAD (fraction of the drain rate).
 */
import { fork } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type ChainsightConfig } from '../src/config/config.js';
import { ensureTopics } from '../src/ingest/kafka-source.js';
import { decodeOtlp } from '../src/ingest/otlp/index.js';
import { startConsumer } from '../src/runtime/consumer.js';
import { createLogger } from '../src/runtime/logger.js';
import { openPipeline } from '../src/runtime/pipeline.js';
import { openClient } from '../src/store/client.js';
import { defaultPolicy } from '../src/verify/index.js';
import { withFreshIds } from './kafka-ids.js';
import { connectProducer, gzipBytes, packBodies, produceBacklog, useGzipLevel, type SteadyProducerEvent, type SteadyProducerJob } from './kafka-produce.js';
import { cpuSeconds, OffsetWatch, probeConsumer } from './kafka-watch.js';
import { median, percentile, report } from './stats.js';
import { makeWorkload } from './workload.js';

const num = (name: string, fallback: number): number => (process.env[name] ? Number(process.env[name]) : fallback);
const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
if (brokers.length === 0) throw new Error('bench/kafka.ts needs KAFKA_BROKERS (scripts/kafka.sh start)');

const ROUNDS = num('BENCH_KAFKA_ROUNDS', 3);
const SPANS_PER_MESSAGE = 500; // ~0.9 MB of protobuf: under the gateway's max_message_bytes of 1 MB
const ROUND_SPANS = num('BENCH_KAFKA_ROUND_SPANS', 50_000);
const BACKLOG_SPANS = num('BENCH_KAFKA_BACKLOG_SPANS', 1_000_000);
const STEADY_SECONDS = num('BENCH_KAFKA_STEADY_SECONDS', 20);
const STEADY_LOAD = num('BENCH_KAFKA_STEADY_LOAD', 0.5);
const PARTITIONS = 4;
const IN_FLIGHT = 4; // in-process: a few requests at once, as from several exporters
const SAMPLE_MS = 100;

const benchStart = performance.now();
const log = (msg: string): void => void process.stderr.write(`[kafka bench ${((performance.now() - benchStart) / 1000).toFixed(1)}s] ${msg}\n`);
const logger = createLogger(process.env.CHAINSIGHT_LOG_LEVEL ?? 'warn', 'bench-kafka');
useGzipLevel(1); // collectors/gateway.yaml: compression gzip, level 1

// --- workload and configuration ------------------------------------------------------------
const dataDir = await mkdtemp(join(tmpdir(), 'chainsight-bench-kafka-'));
const w = await makeWorkload({ chains: 1000, spansPerChain: 50, spansPerRequest: SPANS_PER_MESSAGE });
log(`workload: ${w.spans} spans in ${w.protobuf.length} bodies of ${SPANS_PER_MESSAGE}`);
const run = `${process.pid}_${Date.now().toString(36)}`;
const base = loadConfig({ ...process.env, CHAINSIGHT_DATA_DIR: dataDir, CHAINSIGHT_TRUST_DIR: w.trustDir });
const databases: string[] = [];
function configFor(label: string, kafka?: { topic: string; groupId: string }): ChainsightConfig {
  const database = `bench_kafka_${run}_${label}`;
  databases.push(database);
  return {
    ...base,
    store: { ...base.store, database },
    policy: { ...defaultPolicy(), implications: w.implications },
    kafka: kafka ? { ...base.kafka, brokers, topic: kafka.topic, dlqTopic: `${kafka.topic}.dlq`, groupId: kafka.groupId, partitions: PARTITIONS } : base.kafka,
  };
}
const topicName = (what: string): string => `bench-${what}-${run}`;

/** The fresh-id rewrite must keep every span, change every id and keep parent links: checked once on real bodies. */
function selfCheckFreshIds(body: Uint8Array): void {
  const before = decodeOtlp(body, 'protobuf', base.limits).spans;
  const copy = withFreshIds(body, 0x5eed);
  const after = decodeOtlp(copy.body, 'protobuf', base.limits).spans;
  const ok = copy.spans === before.length && after.length === before.length &&
    after.every((s, i) => s.spanId !== before[i]!.spanId && s.traceId !== before[i]!.traceId && s.taskId === before[i]!.taskId &&
      (before[i]!.parentSpanId === '' ? s.parentSpanId === '' : s.parentSpanId !== before[i]!.parentSpanId));
  if (!ok) throw new Error('withFreshIds self-check failed');
}
selfCheckFreshIds(w.protobuf[0]!);

// --- a. in-process ---------------------------------------------------------------------------
interface Round { spans: number; seconds: number; cpu: number; perSec: number; perCpuSec: number }
const round = (spans: number, seconds: number, cpu: number): Round => ({ spans, seconds, cpu, perSec: spans / seconds, perCpuSec: spans / cpu });
const noStore: number[] = [];

// Each round's database is dropped once measured, so its background merges do not load the next round.
const admin = openClient(base.store);
async function dropDatabase(db: string): Promise<void> {
  await admin.command({ query: `DROP DATABASE IF EXISTS ${db}` });
}

async function inProcess(label: string, bodies: Uint8Array[]): Promise<Round> {
  const config = configFor(label);
  const pipeline = await openPipeline(config, logger, { source: 'bench' });
  let spans = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const inflight: Promise<unknown>[] = [];
  for (const body of bodies) {
    const decoded = decodeOtlp(body, 'protobuf', config.limits).spans;
    spans += decoded.length;
    inflight.push(pipeline.processor.ingest(decoded));
    if (inflight.length >= IN_FLIGHT) await inflight.shift();
  }
  await Promise.all(inflight);
  const r = round(spans, (performance.now() - t0) / 1000, cpuSeconds(cpu0, process.cpuUsage()));
  // Reference: the same bodies through decode → verify → correlate without the store (chain cache now warm).
  const t1 = performance.now();
  for (const body of bodies) await pipeline.processor.process(decodeOtlp(body, 'protobuf', config.limits).spans);
  noStore.push(spans / ((performance.now() - t1) / 1000));
  await pipeline.close();
  await dropDatabase(config.store.database);
  return r;
}

// --- b/c. draining a topic with one consumer -------------------------------------------------
const watch = await OffsetWatch.open(brokers);

async function consumer(label: string, topic: string) {
  const groupId = `${topic}-${label}`;
  const config = configFor(label, { topic, groupId });
  const running = await startConsumer(config, logger, { serveApi: false });
  const probe = probeConsumer(running.source);
  const seen = (await running.pipeline.metrics.kafkaMessages.get()).values[0]?.value ?? 0;
  if (seen > probe.messages) throw new Error('messages were consumed before the probe was installed');
  return { running, probe, groupId, database: config.store.database };
}

async function viaKafka(label: string, topic: string, timeoutMs: number): Promise<Round> {
  const { running, probe, groupId, database } = await consumer(label, topic);
  await watch.waitCaughtUp(groupId, topic, timeoutMs);
  const r = round(probe.spans, (probe.lastCommitAt - probe.firstAt) / 1000, cpuSeconds(probe.cpuAtFirst, probe.cpuAtLastCommit));
  await running.stop();
  await dropDatabase(database);
  return r;
}

const abTopic = topicName('ab');
const warmTopic = topicName('warm');
const backlogTopic = topicName('backlog');
const steadyTopic = topicName('steady');
await ensureTopics(brokers, [abTopic, warmTopic, backlogTopic, steadyTopic].map((topic) => ({ topic, partitions: PARTITIONS })));

// The exact message values of a round, kept to feed the in-process side the same bytes.
const roundMessages = Math.ceil(ROUND_SPANS / SPANS_PER_MESSAGE);
const roundBodies = Array.from({ length: roundMessages }, (_, k) => withFreshIds(w.protobuf[k % w.protobuf.length]!, k + 1).body);
const producer = await connectProducer(brokers);
await produceBacklog(producer, abTopic, roundBodies, { count: roundBodies.length, partitions: PARTITIONS, saltBase: 0 });
await produceBacklog(producer, warmTopic, roundBodies.slice(0, 20), { count: 20, partitions: PARTITIONS, saltBase: 0 });
const roundSpans = roundMessages * SPANS_PER_MESSAGE;
log(`produced ${roundSpans} spans to ${abTopic}; gzip ${(gzipBytes.raw / gzipBytes.compressed).toFixed(1)}:1`);

// Warm-up of both paths (JIT, engine start, kafkajs), not reported.
await inProcess('warm_a', roundBodies.slice(0, 20));
await viaKafka('warm_b', warmTopic, 60_000);

const inproc: Round[] = [];
const kafka: Round[] = [];
for (let r = 1; r <= ROUNDS; r++) {
  inproc.push(await inProcess(`a${r}`, roundBodies));
  kafka.push(await viaKafka(`b${r}`, abTopic, 300_000));
  log(`round ${r}: in-process ${inproc.at(-1)!.perSec.toFixed(0)} spans/s, kafka ${kafka.at(-1)!.perSec.toFixed(0)} spans/s`);
}
roundBodies.length = 0;
const kafkaRate = median(kafka.map((r) => r.perSec));

// --- c. 1M-span backlog -------------------------------------------------------------------
const backlogMessages = Math.ceil(BACKLOG_SPANS / SPANS_PER_MESSAGE);
const gzip0 = { ...gzipBytes };
const produced = await produceBacklog(producer, backlogTopic, w.protobuf, { count: backlogMessages, partitions: PARTITIONS, saltBase: 1_000_000, inFlight: 8 });
const backlogGzip = (gzipBytes.raw - gzip0.raw) / (gzipBytes.compressed - gzip0.compressed);
log(`backlog: produced ${produced.spans} spans in ${produced.seconds.toFixed(1)} s`);
await producer.disconnect();
const backlog = await (async () => {
  const { running, probe, groupId, database } = await consumer('backlog', backlogTopic);
  await watch.waitCaughtUp(groupId, backlogTopic, 900_000);
  const r = round(probe.spans, (probe.lastCommitAt - probe.firstAt) / 1000, cpuSeconds(probe.cpuAtFirst, probe.cpuAtLastCommit));
  const stored = await running.pipeline.queries.countActions();
  await running.stop();
  await dropDatabase(database);
  return { ...r, stored };
})();
log(`backlog: drained ${backlog.spans} spans in ${backlog.seconds.toFixed(1)} s; ${backlog.stored} distinct actions stored`);

// --- d. steady load ------------------------------------------------------------------------
const steady = await (async () => {
  // A fraction of the drain rate measured on the 1M backlog (the longest, steadiest measurement here).
  const spansPerSec = backlog.perSec * STEADY_LOAD;
  const messagesPerSec = spansPerSec / SPANS_PER_MESSAGE;
  const bodiesFile = join(dataDir, 'steady-bodies.bin');
  await writeFile(bodiesFile, packBodies(w.protobuf.slice(0, 20)));
  const { running, groupId, database } = await consumer('steady', steadyTopic);
  // Start producing only once the member holds every partition, so the group join is not counted as lag.
  while (running.source.assignment().length < PARTITIONS) await new Promise((r) => setTimeout(r, 50));

  const job: SteadyProducerJob = { brokers, topic: steadyTopic, bodiesFile, messagesPerSec, durationMs: STEADY_SECONDS * 1000, partitions: PARTITIONS, saltBase: 2_000_000_000 };
  const child = fork(fileURLToPath(new URL('./kafka-steady-producer.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_STEADY_JOB: JSON.stringify(job) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const acks: Array<[number, number, number]> = [];
  let done: Extract<SteadyProducerEvent, { type: 'done' }> | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (e: SteadyProducerEvent) => {
      if (e.type === 'ready') resolve();
      else if (e.type === 'acks') acks.push(...e.acks);
      else done = e;
    });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`steady producer exited with ${code}`))));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  await ready;
  child.send('go');

  // Sample the group's offsets until the producer is done and the consumer has caught up.
  const samples: Array<{ t: number; committed: number[]; lag: number }> = [];
  const until = Date.now() + STEADY_SECONDS * 1000 + 120_000;
  for (;;) {
    const l = await watch.lag(groupId, steadyTopic);
    samples.push({ t: Date.now(), committed: l.committed, lag: l.total });
    if (done && l.total === 0 && acks.length >= done.messages) break;
    if (Date.now() > until) throw new Error(`steady: consumer still ${l.total} messages behind`);
    await new Promise((r) => setTimeout(r, SAMPLE_MS));
  }
  if ((await exited) !== 0) throw new Error('steady producer failed');
  await running.stop();
  await dropDatabase(database);
  const producerDone = done!;

  // End-to-end delay: from the producer's send to the first sample showing the offset committed.
  const delays: number[] = [];
  for (const [partition, offset, sentAt] of acks) {
    const seen = samples.find((s) => s.t >= sentAt && (s.committed[partition] ?? 0) > offset);
    if (seen) delays.push(seen.t - sentAt);
  }
  delays.sort((a, b) => a - b);
  // Lag while the producer ran (the tail after it stopped is the drain of what was in flight).
  const endOfLoad = Math.max(...acks.map((a) => a[2]));
  const lags = samples.filter((s) => s.t <= endOfLoad).map((s) => s.lag).sort((a, b) => a - b);
  const gaps = samples.slice(1).map((s, i) => s.t - samples[i]!.t);
  return {
    target_spans_per_sec: spansPerSec,
    produced_spans_per_sec: producerDone.spans / producerDone.seconds,
    produced_messages: producerDone.messages,
    seconds: producerDone.seconds,
    lag_max_messages: lags.at(-1) ?? NaN,
    lag_p95_messages: percentile(lags, 95),
    lag_p50_messages: percentile(lags, 50),
    lag_max_spans: (lags.at(-1) ?? NaN) * SPANS_PER_MESSAGE,
    lag_p95_spans: percentile(lags, 95) * SPANS_PER_MESSAGE,
    delay_ms_p50: percentile(delays, 50),
    delay_ms_p95: percentile(delays, 95),
    delay_ms_max: delays.at(-1) ?? NaN,
    delays_measured: delays.length,
    sample_interval_ms: median(gaps),
  };
})();
log(`steady: lag max ${steady.lag_max_messages} messages, delay p50 ${steady.delay_ms_p50} ms`);

await watch.close();
for (const db of databases) await dropDatabase(db);
await admin.close();
await rm(dataDir, { recursive: true, force: true });
await rm(w.trustDir, { recursive: true, force: true });

const per = (rs: Round[], k: keyof Round) => rs.map((r) => r[k]);
report({
  store: base.store.target.kind,
  spans_per_message: SPANS_PER_MESSAGE,
  partitions: PARTITIONS,
  gzip_ratio: gzipBytes.raw / gzipBytes.compressed,
  round_spans: roundSpans,
  rounds: ROUNDS,
  inproc_spans_per_sec: median(per(inproc, 'perSec')),
  inproc_spans_per_sec_min: Math.min(...per(inproc, 'perSec')),
  inproc_spans_per_sec_max: Math.max(...per(inproc, 'perSec')),
  inproc_spans_per_cpu_sec: median(per(inproc, 'perCpuSec')),
  inproc_no_store_spans_per_sec: median(noStore),
  kafka_spans_per_sec: kafkaRate,
  kafka_spans_per_sec_min: Math.min(...per(kafka, 'perSec')),
  kafka_spans_per_sec_max: Math.max(...per(kafka, 'perSec')),
  kafka_spans_per_cpu_sec: median(per(kafka, 'perCpuSec')),
  kafka_over_inproc: median(kafka.map((k, i) => k.perSec / inproc[i]!.perSec)),
  kafka_over_inproc_per_cpu: median(kafka.map((k, i) => k.perCpuSec / inproc[i]!.perCpuSec)),
  backlog_spans: backlog.spans,
  backlog_stored_actions: backlog.stored,
  backlog_produce_seconds: produced.seconds,
  backlog_gzip_ratio: backlogGzip,
  backlog_drain_seconds: backlog.seconds,
  backlog_drain_spans_per_sec: backlog.perSec,
  backlog_drain_spans_per_cpu_sec: backlog.perCpuSec,
  ...Object.fromEntries(Object.entries(steady).map(([k, v]) => [`steady_${k}`, v])),
  total_seconds: (performance.now() - benchStart) / 1000,
  inproc_rounds: inproc,
  kafka_rounds: kafka,
});
