/**
 * Detectors 1 and 2 on the real processor and chdb: verified chains minted
 * with real keys go through verify and correlate into the store; detectors
 * started from that store (a restart, or a second processor sharing it) stay
 * quiet over the same kind of traffic, and a new edge seen by two processors
 * derives one alert id per kind.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
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
let p1: Pipeline;
let p2: Pipeline;
let spanSeq = 0;

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
  const config = loadConfig({ ...process.env }, { data: dataDir, trustDir: domain.dir, otlpPort: 0, apiPort: 0 });
  if (process.env.CLICKHOUSE_URL) config.store.database = `detect_paths_${process.pid}`;
  // Two processors on one store, as two members of a consumer group would be.
  p1 = await openPipeline(config, logger, { defaultMetrics: false });
  p2 = await openPipeline(config, logger, { defaultMetrics: false });
  // Normal traffic already stored before any detector starts.
  const stored = await p1.processor.ingest(await normalTraffic('before'));
  assert.equal(stored.rejected, 0);
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

test('a new edge seen by two processors derives one alert id per kind; its failed twin raises nothing', async () => {
  const d1 = processorWith(p1, await startedDetectors(p1));
  const d2 = processorWith(p2, await startedDetectors(p2));
  // An attacker's chain to the rogue agent that fails verification: no alert, and it teaches nothing.
  await d1.processor.ingest(await task('forged', ['planner', 'inventory', 'rogue'], { escalateLast: true }));
  assert.deepEqual(d1.seen.signals, []);
  // The same edge on verified chains, in different tasks on each processor.
  await d1.processor.ingest(await task('rogue-1', ['planner', 'inventory', 'rogue']));
  await d2.processor.ingest(await task('rogue-2', ['planner', 'inventory', 'rogue']));
  const all = [...d1.seen.signals, ...d2.seen.signals];
  const idsByKind = new Map<string, Set<string>>();
  for (const s of all) (idsByKind.get(s.kind) ?? idsByKind.set(s.kind, new Set()).get(s.kind)!).add(alertId(s));
  assert.deepEqual([...idsByKind.keys()].sort(), ['delegation.new_edge', 'delegation.new_edge_type']);
  for (const [kind, ids] of idsByKind) assert.equal(ids.size, 1, `${kind}: one alert id across both processors`);
  assert.equal(d1.seen.signals.length, 2, 'each processor signals once per kind');
  assert.equal(d2.seen.signals.length, 2);
  const edge = d1.seen.signals.find((s) => s.kind === 'delegation.new_edge')!;
  assert.equal(edge.subject, `${domain.id('inventory')} -> ${domain.id('rogue')}`);
  assert.equal(edge.tenant, 'co.com');
  assert.equal(edge.taskId, 'rogue-1');
  assert.equal(edge.evidence.linkIds.length, 1, 'the link jti, from the batch\'s delegation rows');
  assert.match(edge.evidence.linkIds[0]!, /^[0-9a-f-]{36}$/);
  // A processor restarted after the edge was stored has learned it.
  const d3 = processorWith(p1, await startedDetectors(p1));
  await d3.processor.ingest(await task('rogue-3', ['planner', 'inventory', 'rogue']));
  assert.deepEqual(d3.seen.signals, []);
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
