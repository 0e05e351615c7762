/**
 * Detection in the processor, on chdb: two pipelines in one process sharing
 * one store (as two processors of a consumer group would) raise each alert
 * once, redeliveries count once, normal traffic stays quiet, and
 * CHAINSIGHT_DETECTION=off stores no alert.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type ChainsightConfig } from '../../src/config/config.js';
import { openPipeline, type Pipeline } from '../../src/runtime/pipeline.js';
import { createLogger } from '../../src/runtime/logger.js';
import { makeTrustDomain, spanFor, standardChain, type TestDomain } from '../support/keys.js';
import { rulesFor } from '../support/rules-yaml.js';

let d: TestDomain;
let dataDir: string;
let config: ChainsightConfig;
let p1: Pipeline;
let p2: Pipeline;
const logger = createLogger('silent');

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'chainsight-detect-'));
  d = await makeTrustDomain();
  config = loadConfig({ ...process.env, CHAINSIGHT_DATABASE: `detect_${process.pid}` }, { data: dataDir, trustDir: d.dir });
  p1 = await openPipeline(config, logger, { defaultMetrics: false });
  p2 = await openPipeline(config, logger, { defaultMetrics: false });
});

after(async () => {
  await p1.close();
  await p2.close();
  await d.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

let seq = 0;
const spanId = () => (++seq).toString(16).padStart(16, '0');

test("a chain presented by another agent raises one alert across two processors; the same span redelivered to the other counts once", async () => {
  const chain = await standardChain(d);
  const stolen = [1, 2].map(() => spanFor(chain, { agentId: d.id('rogue'), agentName: 'rogue', spanId: spanId() }));
  const r1 = await p1.processor.ingest(stolen);
  assert.equal(r1.accepted, 2);
  // The same deliveries reach the second processor (a rebalance), plus one new span.
  await p2.processor.ingest(stolen);
  await p2.processor.ingest([spanFor(chain, { agentId: d.id('rogue'), agentName: 'rogue', spanId: spanId() })]);
  const page = await p1.alerts.list({ kind: 'integrity.not_delegatee' });
  assert.equal(page.items.length, 1, 'one alert');
  const a = page.items[0]!;
  assert.equal(a.count, 3, 'three distinct spans, redeliveries counted once');
  assert.equal(a.severity, 'high');
  assert.equal(a.tenant, 'co.com');
  assert.equal(a.subject, `${d.id('rogue')} presented the chain of ${d.id('scanner')}`);
  assert.equal(a.human, 'alice@company.com');
  const detail = await p2.alerts.get(a.id);
  assert.equal(detail?.evidence.spanIds.length, 3);
});

test('valid traffic raises nothing', async () => {
  const before = (await p1.alerts.list({})).items.length;
  const chain = await standardChain(d);
  await p1.processor.ingest([1, 2, 3].map(() => spanFor(chain, { spanId: spanId() })));
  assert.equal((await p1.alerts.list({})).items.length, before);
});

test('CHAINSIGHT_DETECTION=off: spans are processed and no alert is stored', async () => {
  const off = loadConfig({ ...process.env, CHAINSIGHT_DATABASE: `detect_off_${process.pid}`, CHAINSIGHT_DETECTION: 'off' }, { data: dataDir, trustDir: d.dir });
  assert.equal(off.detection?.enabled, false);
  const p = await openPipeline(off, logger, { defaultMetrics: false });
  try {
    const chain = await standardChain(d);
    const r = await p.processor.ingest([spanFor(chain, { agentId: d.id('rogue'), spanId: spanId() })]);
    assert.equal(r.accepted, 1);
    assert.deepEqual((await p.alerts.list({})).items, []);
  } finally {
    await p.close();
  }
});

test('policy violations through the policy stage: one alert per rule, agent and task, at the severity the detection file sets', async () => {
  const rules = join(dataDir, 'rules.yaml');
  writeFileSync(rules, rulesFor('depth-2', { depthMax: 2 }));
  const detection = join(dataDir, 'detection.yaml');
  writeFileSync(detection, 'policy:\n  rules:\n    depth.global: high\n');
  const cfg = loadConfig({ ...process.env, CHAINSIGHT_DATABASE: `detect_policy_${process.pid}`, CHAINSIGHT_DETECTION: detection }, { data: dataDir, trustDir: d.dir, rules });
  const p = await openPipeline(cfg, logger, { defaultMetrics: false });
  try {
    const deep = await standardChain(d);
    const shallow = await standardChain(d, { depth: 2 });
    await p.processor.ingest([
      spanFor(deep, { spanId: spanId() }),
      spanFor(deep, { spanId: spanId() }),
      spanFor(shallow, { spanId: spanId(), agentId: d.id('inventory'), agentName: 'inventory' }),
    ]);
    const page = await p.alerts.list({ kind: 'policy.violation' });
    assert.equal(page.items.length, 1, 'the two deep spans: one alert; the shallow chain: none');
    assert.equal(page.items[0]!.count, 2);
    assert.equal(page.items[0]!.severity, 'high');
    assert.equal(page.items[0]!.subject, `rule depth.global by ${d.id('scanner')} in task task-12345`);
  } finally {
    await p.close();
  }
});
