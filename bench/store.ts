/**
 * The store side, in one process (chdb binds one data directory per process):
 *  1. the full path (decode → verify → correlate → batched INSERT into chdb)
 *     beside a baseline that only decodes and writes the same rows;
 *  2. the tree query for a 5,000-action task among 1M stored actions.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeOtlp } from '../src/ingest/otlp/index.js';
import { resolveIngestLimits } from '../src/ingest/limits.js';
import { loadConfig } from '../src/config/config.js';
import { openPipeline } from '../src/runtime/pipeline.js';
import { createLogger } from '../src/runtime/logger.js';
import { ChainVerifier, TrustStore, defaultPolicy } from '../src/verify/index.js';
import { openClient, type StoreConfig } from '../src/store/client.js';
import { migrate } from '../src/store/migrate.js';
import { BatchWriter } from '../src/store/writer.js';
import { Queries } from '../src/store/queries.js';
import { toActionRow } from '../src/correlate/correlate.js';
import type { ActionRow } from '../src/correlate/rows.js';
import type { ChainSummary } from '../src/model/delegation.js';
import { VERIFIED } from '../src/model/verdict.js';
import { buildTaskTree } from '../src/serve/tree.js';
import { makeWorkload } from './workload.js';
import { median, percentile, report } from './stats.js';
import { makeSpanFor } from './spans.js';

const dataDir = await mkdtemp(join(tmpdir(), 'chainsight-bench-store-'));
const limits = resolveIngestLimits();
const BATCH = { maxRows: 10_000, maxDelayMs: 20 };
const logger = createLogger('warn');
const totalActions = Number(process.env.BENCH_TREE_ACTIONS ?? 1_000_000);

async function store(db: string) {
  const config: StoreConfig = process.env.CLICKHOUSE_URL
    ? { database: db, target: { kind: 'server', url: process.env.CLICKHOUSE_URL } }
    : { database: db, target: { kind: 'embedded', dataDir } };
  const client = openClient(config);
  await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await migrate(client, db);
  return { client, config };
}

// --- 1. full path vs decode-and-write baseline -------------------------------------------
const w = await makeWorkload({ chains: 1000, spansPerChain: 50, spansPerRequest: 1000 });
const trust = await TrustStore.fromDirectory(w.trustDir);
const policy = { ...defaultPolicy(), implications: w.implications };

/** The product's own wiring (openPipeline): verifier, processor, writers on their own connections. */
async function fullPath(round: number): Promise<number> {
  const config = loadConfig({ ...process.env, CHAINSIGHT_DATABASE: `bench_full_${round}`, CHAINSIGHT_BATCH_ROWS: String(BATCH.maxRows), CHAINSIGHT_BATCH_DELAY_MS: String(BATCH.maxDelayMs) }, { data: dataDir, trustDir: w.trustDir });
  config.store = process.env.CLICKHOUSE_URL ? config.store : { ...config.store, target: { kind: 'embedded', dataDir } };
  config.policy = policy;
  const pipeline = await openPipeline(config, logger, { defaultMetrics: false });
  const start = performance.now();
  // Requests arrive concurrently, as from many exporters: keep several in flight.
  const inflight: Promise<unknown>[] = [];
  for (const body of w.protobuf) {
    inflight.push(pipeline.processor.ingest(decodeOtlp(body, 'protobuf', limits).spans));
    if (inflight.length >= 8) await inflight.shift();
  }
  await Promise.all(inflight);
  const rate = (w.spans * 1000) / (performance.now() - start);
  await pipeline.close();
  return rate;
}

// The baseline writes the very same rows, chain fields included, but looks
// them up instead of verifying: what is left between the two is the cost of
// verification and correlation, which is what the comparison is about.
const known = new Map<string, { summary: ChainSummary | null; chainHash: string }>();
{
  const v = new ChainVerifier(trust, policy);
  for (const chain of w.chains) {
    const d = v.verifyDetailed(makeSpanFor(chain));
    known.set(chain[chain.length - 1]!, { summary: d.summary, chainHash: d.chainHash });
  }
}
const NONE = { summary: null, chainHash: '' };

async function baseline(round: number): Promise<number> {
  const { client } = await store(`bench_base_${round}`);
  const actions = new BatchWriter<ActionRow>(client, `bench_base_${round}.actions`, BATCH);
  const start = performance.now();
  const inflight: Promise<unknown>[] = [];
  for (const body of w.protobuf) {
    const now = Date.now();
    const rows = decodeOtlp(body, 'protobuf', limits).spans.map((s) => {
      const c = (s.chain && known.get(s.chain[s.chain.length - 1]!)) || NONE;
      return toActionRow(s, VERIFIED, c.summary, c.chainHash, now);
    });
    inflight.push(actions.write(rows));
    if (inflight.length >= 8) await inflight.shift();
  }
  await Promise.all(inflight);
  const rate = (w.spans * 1000) / (performance.now() - start);
  await client.close();
  return rate;
}

await baseline(0); // warm-up: engine start, JIT
const base: number[] = [];
const full: number[] = [];
for (let r = 1; r <= 3; r++) {
  base.push(await baseline(r));
  full.push(await fullPath(r));
}

// --- 2. tree query: one 5,000-action task among 1M ---------------------------------------
const { client: writer, config } = await store('bench_tree');
const reader = openClient(config);
const queries = new Queries(reader, 'bench_tree');
const template = makeSpanFor(w.chains[0]!);
const verifier = new ChainVerifier(trust, policy);
const detail = verifier.verifyDetailed(template);
const t0 = template.startMs;
const TARGET = 'task-target';
const TARGET_ACTIONS = 5000;
const insertStart = performance.now();
const writerBatch = new BatchWriter<ActionRow>(writer, 'bench_tree.actions', { maxRows: 50_000, maxDelayMs: 50 });
const pending: Promise<unknown>[] = [];
for (let i = 0; i < totalActions; i += 50_000) {
  const rows: ActionRow[] = [];
  for (let k = i; k < Math.min(i + 50_000, totalActions); k++) {
    // Every 200th row belongs to the target task, spread over the whole load (and so over many parts).
    const task = k % (totalActions / TARGET_ACTIONS) === 0 ? TARGET : `task-${k % 20_000}`;
    const ms = t0 + k;
    const span = { ...template, taskId: task, spanId: k.toString(16).padStart(16, '0'), parentSpanId: k % 7 ? (k - 1).toString(16).padStart(16, '0') : '', startMs: ms, startNs: `${ms}000000`, endNs: `${ms + 2}000000` };
    rows.push(toActionRow(span, detail.verdict, detail.summary, detail.chainHash, Date.now()));
  }
  pending.push(writerBatch.write(rows));
  if (pending.length >= 2) await pending.shift();
}
await Promise.all(pending);
const insertSeconds = (performance.now() - insertStart) / 1000;
const stored = await queries.countActions();
const lat: number[] = [];
let treeTotal = 0;
for (let i = 0; i < 5; i++) await queries.taskActions(TARGET); // warm
for (let i = 0; i < 200; i++) {
  const s = performance.now();
  const tree = buildTaskTree(TARGET, await queries.taskActions(TARGET));
  lat.push(performance.now() - s);
  treeTotal = tree.total;
}
lat.sort((a, b) => a - b);
await writer.close();
await reader.close();
await rm(dataDir, { recursive: true, force: true });

report({
  store: config.target.kind,
  spans_per_round: w.spans,
  baseline_decode_write_per_sec: base,
  full_path_per_sec: full,
  full_over_baseline: median(full) / median(base),
  tree_stored_actions: stored,
  tree_insert_rows_per_sec: totalActions / insertSeconds,
  tree_task_actions: treeTotal,
  tree_query_ms_p50: percentile(lat, 50),
  tree_query_ms_p99: percentile(lat, 99),
  tree_query_ms_max: lat[lat.length - 1],
});
