/**
 * Detectors 1 and 2 on the real processor and chdb: verified chains minted
 * with real keys go through verify and correlate into the store; detectors
 * started from that store (a restart, or a second processor sharing it) stay
 * quiet over the same kind of traffic, and a new edge seen by two processors
 * ends as one alert per kind in the alert store.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type ChainsightConfig } from '../../src/config/config.js';
import { parseSections } from '../../src/detect/config.js';
import { createLogger } from '../../src/runtime/logger.js';
import { openPipeline, pipelineStages, type Pipeline } from '../../src/runtime/pipeline.js';
import { Processor } from '../../src/pipeline/processor.js';
import type { SpanBatch, Stage } from '../../src/pipeline/stage.js';
import { ACTIONS, DELEGATIONS } from '../../src/correlate/stages.js';
import { alertId, type AlertSignal } from '../../src/detect/alert.js';
import type { DetectorContext, StreamingDetector } from '../../src/detect/detector.js';
import { PathsDetector } from '../../src/detect/paths/detector.js';
import { defaultPathsConfig } from '../../src/detect/paths/config.js';
import { DepthDetector } from '../../src/detect/depth/detector.js';
import { defaultDepthConfig } from '../../src/detect/depth/config.js';
import { mintChild, mintRoot } from '../../src/sdk/mint.js';
import type { SigningKey } from '../../src/sdk/keys.js';
import type { AgentSpan } from '../../src/model/span.js';
import { makeTrustDomain, spanFor, type TestDomain } from '../support/keys.js';

const DAY = 86_400_000;
const SCOPE = ['cloud:read'];
const logger = createLogger('silent');
let domain: TestDomain;
let dataDir: string;
let config: ChainsightConfig;
let p1: Pipeline;
let p2: Pipeline;
let spanSeq = 0;

/** Detection as the file would configure it: learning 0, so only the baseline read from the store keeps it quiet. */
function detectionWithoutLearning(): ChainsightConfig['detection'] {
  const problems: string[] = [];
  // The other detectors are off: this test is about what the paths and depth detectors raise.
  const sections = parseSections({ paths: { learning_sec: 0 }, depth: { learning_sec: 0 }, cross_agent: { enabled: false }, scope: { enabled: false } }, problems);
  assert.deepEqual(problems, []);
  return { enabled: true, source: 'test', sections };
}

/** Runs detectors on each batch after correlation, as the detection stage does, and keeps their signals. */
class ObserveStage implements Stage {
  readonly name = 'test.detect';
  readonly signals: AlertSignal[] = [];
  constructor(private readonly detectors: StreamingDetector[]) {}
  process(batch: SpanBatch): void {
    const input = { nowMs: batch.nowMs, actions: batch.rows(ACTIONS), delegations: batch.rows(DELEGATIONS) };
    for (const d of this.detectors) this.signals.push(...d.observe(input).signals);
  }
}

/** The real stages and sinks of pipeline `p`, with detection last. */
function processorWith(p: Pipeline, detectors: StreamingDetector[]): { processor: Processor; seen: ObserveStage } {
  const seen = new ObserveStage(detectors);
  return { processor: new Processor([...pipelineStages((s) => p.verifier.verifyOrRefresh(s)), seen], p.sinks), seen };
}

const ctxOf = (p: Pipeline): DetectorContext => ({ client: p.readerClient, database: p.database, logger });

/** Started detectors: learning 0, so only the baseline read from the store can keep them quiet. */
async function startedDetectors(p: Pipeline, nowMs = Date.now()): Promise<StreamingDetector[]> {
  const ds = [new PathsDetector({ ...defaultPathsConfig(), learningMs: 0 }), new DepthDetector({ ...defaultDepthConfig(), learningMs: 0 })];
  for (const d of ds) await d.start?.(ctxOf(p), nowMs);
  return ds;
}

/** One span per agent of the chain alice → names…, each under its own chain (as every agent acts). */
async function task(taskId: string, names: string[], opts: { escalateLast?: boolean } = {}): Promise<AgentSpan[]> {
  const chains: string[][] = [];
  let chain = await mintRoot({ authzKey: domain.authz, human: 'alice@co.com', agent: domain.id(names[0]!), scope: SCOPE, task: taskId, ttlSec: 3600 });
  chains.push(chain);
  for (let i = 1; i < names.length; i++) {
    const bad = opts.escalateLast === true && i === names.length - 1;
    chain = await mintChild({
      parentChain: chain, signerKey: domain.agents[names[i - 1]!] as SigningKey, delegatee: domain.id(names[i]!),
      scope: bad ? ['cloud:*', 'admin:*'] : SCOPE, ttlSec: 1800, ...(bad ? { unsafe: { skipChecks: true } } : {}),
    });
    chains.push(chain);
  }
  return chains.map((c, i) => spanFor(c, {
    taskId, traceId: (++spanSeq).toString(16).padStart(32, '0'), spanId: spanSeq.toString(16).padStart(16, '0'),
    agentId: domain.id(names[i]!), agentName: names[i]!, serviceName: names[i]!, operation: 'execute_tool', scopesUsed: SCOPE,
  }));
}

async function normalTraffic(prefix: string): Promise<AgentSpan[]> {
  const out: AgentSpan[] = [];
  for (let i = 0; i < 3; i++) out.push(...(await task(`${prefix}-${i}`, ['planner', 'inventory', 'scanner'])), ...(await task(`${prefix}-r${i}`, ['planner', 'scanner'])));
  return out;
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'chainsight-detect-paths-'));
  domain = await makeTrustDomain();
  config = loadConfig({ ...process.env }, { data: dataDir, trustDir: domain.dir, otlpPort: 0, apiPort: 0 });
  if (process.env.CLICKHOUSE_URL) config.store.database = `detect_paths_${process.pid}`;
  // Normal traffic stored by a processor with the default detection (still learning: it raises nothing).
  const first = await openPipeline(config, logger, { defaultMetrics: false });
  const stored = await first.processor.ingest(await normalTraffic('before'));
  assert.equal(stored.rejected, 0);
  await first.close();
  // Two processors on that store, as two members of a consumer group (or a restart) would be.
  config.detection = detectionWithoutLearning();
  p1 = await openPipeline(config, logger, { defaultMetrics: false });
  p2 = await openPipeline(config, logger, { defaultMetrics: false });
});

after(async () => {
  await p1?.close();
  await p2?.close();
  await domain.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test('detectors started from the store stay quiet over normal traffic; started cold they would not', async () => {
  const restarted = processorWith(p1, await startedDetectors(p1));
  const second = processorWith(p2, await startedDetectors(p2));
  await restarted.processor.ingest(await normalTraffic('after-1'));
  await second.processor.ingest(await normalTraffic('after-2'));
  assert.deepEqual(restarted.seen.signals, [], 'a restarted processor raises nothing over what the store already holds');
  assert.deepEqual(second.seen.signals, [], 'nor does a new one');

  // Control: the same kind of traffic before a detector that did not read the store.
  const cold = processorWith(p1, [new PathsDetector({ ...defaultPathsConfig(), learningMs: 0 }), new DepthDetector({ ...defaultDepthConfig(), learningMs: 0 })]);
  await cold.processor.ingest(await normalTraffic('cold'));
  assert.ok(cold.seen.signals.some((s) => s.kind === 'delegation.new_path'), 'without the baseline the same traffic alerts');

  // The baseline is bounded by forget-after: read a year later, the store's chains are forgotten.
  const later = processorWith(p1, await startedDetectors(p1, Date.now() + 365 * DAY));
  const probe = await later.processor.process(await normalTraffic('later'), Date.now() + 365 * DAY);
  assert.equal(probe.rows(ACTIONS).length, 15);
  assert.ok(later.seen.signals.length > 0);
});

test('the wired pipeline: processors started over stored traffic raise nothing; a new edge seen by both ends as one alert per kind', async () => {
  for (const p of [p1, p2]) assert.equal((await p.processor.ingest(await normalTraffic(`wired-${p === p1 ? 1 : 2}`))).rejected, 0);
  assert.deepEqual((await p1.alerts.list({})).items, [], 'normal traffic after a restart: no alert');
  // An attacker's chain to the rogue agent that fails verification: no alert, and it teaches nothing.
  await p1.processor.ingest(await task('forged', ['planner', 'inventory', 'rogue'], { escalateLast: true }));
  assert.deepEqual((await p1.alerts.list({})).items, []);
  // The same edge on verified chains, in different tasks, one on each processor.
  await p1.processor.ingest(await task('rogue-1', ['planner', 'inventory', 'rogue']));
  await p2.processor.ingest(await task('rogue-2', ['planner', 'inventory', 'rogue']));
  await Promise.all([p1.sinks.flush(), p2.sinks.flush()]);
  const alerts = (await p1.alerts.list({})).items;
  assert.deepEqual(alerts.map((a) => a.kind).sort(), ['delegation.new_edge', 'delegation.new_edge_type'], 'one alert per kind, not one per processor');
  for (const a of alerts) {
    assert.equal(a.count, 2, 'both processors\' triggers folded into it');
    assert.equal(a.tenant, 'co.com');
    assert.equal(a.state, 'open');
  }
  const edge = alerts.find((a) => a.kind === 'delegation.new_edge')!;
  assert.equal(edge.subject, `${domain.id('inventory')} -> ${domain.id('rogue')}`);
  assert.equal(edge.severity, 'low');
  const detail = (await p1.alerts.get(edge.id))!;
  assert.equal(detail.evidence.linkIds.length, 2, 'the jti of the link in each task');
  assert.ok(detail.evidence.linkIds.every((j) => /^[0-9a-f-]{36}$/.test(j)));
  assert.equal(detail.evidence.spanIds.length, 2);
  assert.equal(detail.evidence.facts.delegatee, domain.id('rogue'));
  // A processor restarted after the edge was stored has learned it.
  await p1.close();
  p1 = await openPipeline(config, logger, { defaultMetrics: false });
  await p1.processor.ingest(await task('rogue-3', ['planner', 'inventory', 'rogue']));
  await p1.sinks.flush();
  assert.deepEqual((await p1.alerts.list({})).items.map((a) => a.count), [2, 2], 'nothing new, nothing counted again');
});

test('depth from the store: a chain deeper than the root type ever went raises one id across two processors', async () => {
  const d1 = processorWith(p1, await startedDetectors(p1));
  const d2 = processorWith(p2, await startedDetectors(p2));
  await d1.processor.ingest(await task('deep-1', ['planner', 'inventory', 'scanner', 'rogue']));
  await d2.processor.ingest(await task('deep-2', ['planner', 'inventory', 'scanner', 'rogue']));
  const depth = [...d1.seen.signals, ...d2.seen.signals].filter((s) => s.kind === 'chain.depth_unusual');
  assert.equal(depth.length, 2);
  assert.equal(new Set(depth.map((s) => alertId(s))).size, 1);
  assert.equal(depth[0]!.evidence.facts.usual_max_depth, 3);
  assert.equal(depth[0]!.subject, `${domain.id('planner')} depth 4`);
});

test('the baseline read: verified chains only, within the window, newest first, bounded, per-tenant first and last', async () => {
  const { migrate } = await import('../../src/store/migrate.js');
  const { readChainHistory } = await import('../../src/detect/paths/chain-history.js');
  const { actionOn, agent } = await import('../support/detect-rows.js');
  // A database of its own on the same engine (chdb binds one data directory per process).
  const db = `dp_history_${process.pid}`;
  await migrate(p1.writerClient, db);
  const store = { writer: p1.writerClient, reader: p1.readerClient, config: { database: db } };
  try {
    const now = Date.now();
    const a = (n: string) => agent('a.example', n);
    const rows = [
      actionOn(['h', a('p'), a('x')], { nowMs: now - 5 * DAY }),
      actionOn(['h', a('p'), a('x')], { nowMs: now - 1 * DAY }),
      actionOn(['h', a('p'), a('y')], { nowMs: now - 2 * DAY }),
      actionOn(['h', a('p'), a('old')], { nowMs: now - 40 * DAY }),
      actionOn(['h', a('p'), a('forged')], { nowMs: now - DAY, fail: 'signature.invalid' }),
      // Hostile text in a path is data, never SQL.
      actionOn(["h'); DROP TABLE actions; --", agent('b.example', "q'")], { nowMs: now - 3 * DAY }),
    ];
    await store.writer.insert({ table: `${store.config.database}.actions`, format: 'JSONEachRow', values: rows });
    const h = await readChainHistory(store.reader, store.config.database, now - 30 * DAY, 10);
    assert.deepEqual(h.chains.map((c) => c.path.at(-1)), [a('x'), a('y'), agent('b.example', "q'")], 'newest first; failed and out-of-window rows left out');
    assert.deepEqual(h.chains[0], { path: ['h', a('p'), a('x')], firstMs: now - 5 * DAY, lastMs: now - DAY });
    assert.equal(h.truncated, false);
    assert.deepEqual(h.tenants.map((t) => [t.tenant, t.firstMs, t.lastMs]), [['a.example', now - 5 * DAY, now - DAY], ['b.example', now - 3 * DAY, now - 3 * DAY]]);
    const cut = await readChainHistory(store.reader, store.config.database, now - 30 * DAY, 2);
    assert.equal(cut.chains.length, 2);
    assert.equal(cut.truncated, true);
    // Detectors starting together with one window share one read; a later start reads again.
    const { sharedChainHistory } = await import('../../src/detect/paths/chain-history.js');
    const ctx = { client: store.reader, database: db, logger: pino({ level: 'silent' }) };
    const first = sharedChainHistory(ctx, now - 30 * DAY, 10);
    assert.equal(sharedChainHistory(ctx, now - 30 * DAY, 10), first, 'the same window: one read');
    assert.notEqual(sharedChainHistory(ctx, now - 30 * DAY, 2), first, 'another limit: its own read');
    assert.deepEqual(await first, h);
    assert.notEqual(sharedChainHistory(ctx, now - 30 * DAY, 10), first, 'nothing is kept once the read settled');
  } finally {
    await p1.writerClient.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  }
});
