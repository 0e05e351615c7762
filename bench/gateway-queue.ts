/**
 * What the gateway's persistent sending queue costs: the builder-made
 * Collector with its queue in memory (the config before file_storage), on
 * file_storage (the default), and on file_storage with an fsync per write,
 * side by side against one broker, in alternating rounds. For each: spans
 * per second answered 200 by the OTLP receiver, and spans per second until
 * the exporter reported every span sent to Kafka. Ratios are to the
 * in-memory queue of the same round (the machine's load drifts between
 * rounds), and the median over rounds is reported.
 *
 *   node --import tsx bench/gateway-queue.ts      (KAFKA_BROKERS, or a local broker via scripts/kafka.sh)
 * Prints `BENCH_RESULT {json}` like the other benchmarks.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTopics } from '../src/ingest/kafka-source.js';
import { postOtlpProto, startCollector, type RunningCollector } from '../test/support/collector.js';
import { kafkaBrokers, otlpProtoExport, releaseKafka, uniqueTopic } from '../test/support/kafka.js';
import { metricSum } from '../test/support/processor-child.js';
import { median } from './stats.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 400);
const SPANS = 100;
const PAD = 2_400; // ~2.5 KB per span, an agent span with its chain
const SENDERS = 8;

const found = await kafkaBrokers();
if (typeof found === 'string') throw new Error(found);
const brokers = found;
const root = mkdtempSync(join(tmpdir(), 'chainsight-bench-gateway-'));
const yaml = readFileSync(resolve(repoRoot, 'collectors/gateway.yaml'), 'utf8');
const memoryConfig = join(root, 'gateway-memory.yaml');
writeFileSync(memoryConfig, yaml.replace(/^\s+storage: file_storage\n/m, ''));

const variants = {
  memory: { configPath: memoryConfig, env: {} },
  file: { configPath: undefined, env: {} },
  fsync: { configPath: undefined, env: { COLLECTOR_QUEUE_FSYNC: 'true' } },
} as const;
type Variant = keyof typeof variants;

// Bodies built once, outside the timed part; span ids need not differ between runs.
const bodies = Array.from({ length: REQUESTS }, (_, i) => otlpProtoExport(900_000 + i, SPANS, 'bench-gateway', PAD).body);

async function sentSpans(c: RunningCollector): Promise<number> {
  const text = await (await fetch(c.metricsUrl)).text();
  return metricSum(text, 'otelcol_exporter_sent_spans', { exporter: 'kafka' }) + metricSum(text, 'otelcol_exporter_sent_spans_total', { exporter: 'kafka' });
}

async function run(variant: Variant): Promise<{ acceptPerSec: number; deliverPerSec: number }> {
  const topic = uniqueTopic(`bench-gw-${variant}`);
  await ensureTopics(brokers, [{ topic, partitions: 4 }]);
  const v = variants[variant];
  const c = await startCollector({ kafkaBrokers: brokers, topic, ...(v.configPath ? { configPath: v.configPath } : {}), env: { ...v.env }, startTimeoutMs: 60_000 });
  try {
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: SENDERS }, async () => {
      while (next < bodies.length) {
        const status = await postOtlpProto(c.tracesUrl, bodies[next++]!);
        if (status !== 200) throw new Error(`${variant}: status ${status}`);
      }
    }));
    const accepted = performance.now() - t0;
    const total = REQUESTS * SPANS;
    while ((await sentSpans(c)) < total) {
      if (performance.now() - t0 > 300_000) throw new Error(`${variant}: not delivered`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const delivered = performance.now() - t0;
    return { acceptPerSec: total / (accepted / 1000), deliverPerSec: total / (delivered / 1000) };
  } finally {
    await c.stop();
  }
}

const results: Record<Variant, { acceptPerSec: number[]; deliverPerSec: number[] }> = {
  memory: { acceptPerSec: [], deliverPerSec: [] },
  file: { acceptPerSec: [], deliverPerSec: [] },
  fsync: { acceptPerSec: [], deliverPerSec: [] },
};
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of Object.keys(variants) as Variant[]) {
      const r = await run(variant);
      results[variant].acceptPerSec.push(r.acceptPerSec);
      results[variant].deliverPerSec.push(r.deliverPerSec);
      console.error(`round ${round + 1} ${variant}: accept ${Math.round(r.acceptPerSec)} spans/s, deliver ${Math.round(r.deliverPerSec)} spans/s`);
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true });
  await releaseKafka();
}

type Key = 'acceptPerSec' | 'deliverPerSec';
const m = (v: Variant, k: Key) => median(results[v][k]);
/** Median over rounds of variant ÷ memory within the round. */
const ratio = (v: Variant, k: Key) => median(results[v][k].map((x, i) => x / results.memory[k][i]!));
const out = {
  request_spans: SPANS,
  request_bytes: bodies[0]!.length,
  memory_accept_spans_per_sec: m('memory', 'acceptPerSec'),
  file_accept_spans_per_sec: m('file', 'acceptPerSec'),
  fsync_accept_spans_per_sec: m('fsync', 'acceptPerSec'),
  memory_deliver_spans_per_sec: m('memory', 'deliverPerSec'),
  file_deliver_spans_per_sec: m('file', 'deliverPerSec'),
  fsync_deliver_spans_per_sec: m('fsync', 'deliverPerSec'),
  file_over_memory_accept: ratio('file', 'acceptPerSec'),
  fsync_over_memory_accept: ratio('fsync', 'acceptPerSec'),
  file_over_memory_deliver: ratio('file', 'deliverPerSec'),
  fsync_over_memory_deliver: ratio('fsync', 'deliverPerSec'),
};
console.log(`BENCH_RESULT ${JSON.stringify(out)}`);
