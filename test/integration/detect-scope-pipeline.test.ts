/**
 * Over-provisioned scope through the processor, on chdb: two pipelines in
 * one process sharing one store (as two processors of a consumer group
 * would), spans with real delegation chains, the scheduler evaluating on its
 * interval. Each over-provisioned grant is one alert whichever processor
 * evaluates; it resolves itself once the grant is used.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import { openPipeline, type Pipeline } from '../../src/runtime/pipeline.js';
import { createLogger } from '../../src/runtime/logger.js';
import { makeTrustDomain, spanFor, standardChain, type TestDomain } from '../support/keys.js';
import { waitFor } from '../support/kafka.js';

let d: TestDomain;
let dataDir: string;
let p1: Pipeline;
let p2: Pipeline;
const logger = createLogger('silent');
let seq = 0;
const spanId = () => (0x5c0000 + ++seq).toString(16).padStart(16, '0');

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'chainsight-detect-scope-'));
  d = await makeTrustDomain();
  // A one-minute tracking window, judged every second; the other detectors off.
  const detection = join(dataDir, 'detection.yaml');
  writeFileSync(detection, 'integrity: { enabled: false }\npolicy: { enabled: false }\ncross_agent: { enabled: false }\nscope: { interval_sec: 1, window_sec: 60, current_sec: 3600 }\n');
  const config = loadConfig({ ...process.env, CHAINSIGHT_DATABASE: `detect_scope_${process.pid}`, CHAINSIGHT_DETECTION: detection }, { data: dataDir, trustDir: d.dir });
  p1 = await openPipeline(config, logger, { defaultMetrics: false });
  p2 = await openPipeline(config, logger, { defaultMetrics: false });
});

after(async () => {
  await p1.close();
  await p2.close();
  await d.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

const scopeAlerts = async () => (await p1.alerts.list({ kind: 'scope.over_provisioned' })).items;

test('grants held for the whole window and partly unused raise one alert each across two processors, and resolve once used', async () => {
  // The same delegations granted two minutes ago (before the window) and again now; the scanner uses cloud:read.
  const old = await standardChain(d, { now: Date.now() - 120_000 });
  const current = await standardChain(d, { now: Date.now() - 5_000 });
  await p1.processor.ingest([spanFor(old, { spanId: spanId() })]);
  await p2.processor.ingest([spanFor(current, { spanId: spanId() })]);
  // Planner: infrastructure:review, cloud:*, reports:write, of which cloud:* is used through its delegates (33%);
  // inventory: cloud:read, cloud:list, reports:write, of which cloud:read is (33%); the scanner uses all it holds.
  await waitFor('the two scope alerts', async () => (await scopeAlerts()).length >= 2, 20_000);
  // Both processors keep evaluating every second: still one alert per grant.
  await new Promise((r) => setTimeout(r, 2500));
  const alerts = await scopeAlerts();
  assert.deepEqual(alerts.map((a) => a.subject).sort(), [d.id('inventory'), d.id('planner')]);
  const inventory = await p2.alerts.get(alerts.find((a) => a.subject === d.id('inventory'))!.id);
  assert.equal(inventory?.evidence.facts.usage_share, '33%');
  assert.deepEqual(inventory?.evidence.facts.suggested_grant, ['cloud:read']);
  assert.equal(inventory?.state, 'open');
  assert.equal(inventory?.tenant, 'co.com');

  // The inventory agent now uses what it was granted and left unused.
  const inventoryChain = await standardChain(d, { depth: 2, now: Date.now() - 5_000 });
  const used = await p1.processor.ingest([spanFor(inventoryChain, { agentId: d.id('inventory'), agentName: 'inventory', spanId: spanId(), scopesUsed: ['cloud:list', 'reports:write'] })]);
  assert.equal(used.accepted, 1);
  await waitFor('the inventory alert resolved by the detector', async () => (await p1.alerts.get(inventory!.id))?.state === 'resolved', 20_000);
  const resolved = await p1.alerts.get(inventory!.id);
  assert.equal(resolved?.resolvedBy, 'detector:scope');
  assert.match(resolved?.resolution ?? '', /every granted permission was used/);
  // The planner's infrastructure:review is still unused: its alert stays open.
  assert.equal(alerts.length, 2);
  assert.equal((await scopeAlerts()).find((a) => a.subject === d.id('planner'))?.state, 'open');
});
