/**
 * The labeled evaluation scenario (src/eval/): deterministic from its seed,
 * normal traffic that looks like work (daily cycle, quiet weekends, sound
 * chains), an anomaly of every alert kind, ground truth for first-seen
 * novelty, and the scoring that turns alerts into precision and recall.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ALERT_KINDS } from '../../src/detect/alert.js';
import { parsePolicy } from '../../src/policy/loader.js';
import { batchesOf, generateScenario, type Label, type PlannedLink, type PlannedSpan, type Scenario } from '../../src/eval/plan.js';
import { noveltyLabels, pathOf } from '../../src/eval/novelty.js';
import { evalRulesYaml } from '../../src/eval/policy.js';
import { evalDetectionYaml } from '../../src/eval/detection-config.js';
import { parseDetectionConfig } from '../../src/detect/config.js';
import { DETECTION_MODULES } from '../../src/detect/registry.js';
import { formatScore, precision, recall, scoreAlerts, type ObservedAlert } from '../../src/eval/score.js';
import { Prng } from '../../src/eval/prng.js';
import { domainOf } from '../../src/eval/world.js';

const scenario = generateScenario({ days: 14, learningDays: 5 });
const digest = (s: Scenario) => createHash('sha256').update(JSON.stringify([s.links, s.spans, s.labels, s.injections])).digest('hex');

test('the PRNG is a function of its seed', () => {
  const draw = (seed: number) => { const r = new Prng(seed); return [r.next(), r.int(1, 6), r.hex(16), r.fork('x').uuid()]; };
  assert.deepEqual(draw(1), draw(1));
  assert.notDeepEqual(draw(1), draw(2));
  const r = new Prng(3);
  for (let i = 0; i < 1000; i++) {
    const x = r.int(2, 4);
    assert.ok(x >= 2 && x <= 4 && Number.isInteger(x));
  }
});

test('the same options give the same scenario; another seed gives another', () => {
  assert.equal(digest(generateScenario({ days: 14, learningDays: 5 })), digest(scenario));
  assert.notEqual(digest(generateScenario({ days: 14, learningDays: 5, seed: 8 })), digest(scenario));
});

test('every alert kind has labeled anomalies, each tied to an injection after the learning period', () => {
  for (const kind of ALERT_KINDS) {
    const anomalies = scenario.labels.filter((l) => l.kind === kind && l.injection !== null);
    assert.ok(anomalies.length >= 3, `${kind}: ${anomalies.length} labeled anomalies`);
  }
  const ids = new Set(scenario.injections.map((i) => i.id));
  for (const l of scenario.labels) if (l.injection !== null) assert.ok(ids.has(l.injection), l.injection);
  for (const i of scenario.injections) if (i.kind !== 'over-provisioned-grant') assert.ok(i.atMs >= scenario.learningEndsMs, i.id);
  assert.deepEqual(new Set(scenario.injections.map((i) => i.tenant)).size, 3, 'every tenant gets its anomalies');
});

test('normal traffic has working hours, quiet nights and weekends, several tenants, and legitimately new agents', () => {
  const normal = scenario.spans.filter((s) => !scenario.injections.some((i) => i.taskIds.includes(s.taskId)));
  const hourOf = (s: PlannedSpan) => new Date(s.startMs).getUTCHours();
  const dayOf = (s: PlannedSpan) => new Date(s.startMs).getUTCDay();
  const weekday = normal.filter((s) => dayOf(s) >= 1 && dayOf(s) <= 5);
  const day = weekday.filter((s) => hourOf(s) >= 9 && hourOf(s) < 17).length / 8;
  const night = weekday.filter((s) => hourOf(s) < 5).length / 5;
  assert.ok(day > 10 * night, `per hour: ${day} by day, ${night} at night`);
  const weekend = normal.filter((s) => dayOf(s) === 0 || dayOf(s) === 6).length / 4;
  assert.ok(weekend < 0.5 * (weekday.length / 10), 'weekends are quieter');
  assert.equal(new Set(normal.map((s) => domainOf(s.agentId))).size, 4, 'three tenants and their partner');
  assert.ok(scenario.fleetChanges.length >= 3);
  for (const change of scenario.fleetChanges) {
    for (const agent of change.agents) {
      const acts = normal.filter((s) => s.agentId === agent);
      assert.ok(acts.length > 10, `${agent} stays and works (${acts.length} actions)`);
      assert.ok(acts.every((s) => s.startMs >= change.atMs), `${agent} appears at ${new Date(change.atMs).toISOString()}`);
    }
  }
  assert.ok(scenario.labels.some((l) => l.injection === null), 'the new agents make benign novelty');
  assert.ok(normal.filter((s) => s.expect.verdict === 'failed').length > 0, 'an isolated late call now and then');
});

test('every planned chain is sound and every verified span fits its chain and batch', () => {
  const links = scenario.links;
  for (const l of links) {
    if (l.parent < 0) continue;
    const p = links[l.parent]!;
    assert.equal(l.issuer, p.delegatee, 'principal alignment');
    assert.ok(l.scope.every((s) => p.scope.includes(s)), `diminishment: ${l.scope} within ${p.scope}`);
    assert.ok(l.iatMs >= p.iatMs);
  }
  const maxAgeMs = 2 * 3600_000;
  for (const b of batchesOf(scenario)) {
    for (const s of b.spans) {
      assert.equal(s.receivedAtMs, b.nowMs);
      assert.ok(s.startMs <= b.nowMs && s.startMs > b.nowMs - maxAgeMs, 'within the received-time bound');
      if (s.expect.verdict !== 'verified') continue;
      const l = links[s.link]!;
      assert.equal(s.agentId, l.delegatee);
      assert.ok(s.scopesUsed.every((x) => l.scope.includes(x)));
      const chainExp = Math.min(...pathIds(links, s.link).map((id) => links[id]!.iatMs + links[id]!.ttlSec * 1000));
      assert.ok(s.startMs >= l.iatMs && s.startMs < chainExp, 'inside every link\'s lifetime');
    }
  }
});

function pathIds(links: readonly PlannedLink[], id: number): number[] {
  const out: number[] = [];
  for (let l: PlannedLink | undefined = links[id]; l; l = l.parent >= 0 ? links[l.parent] : undefined) out.push(l.id);
  return out;
}

test('the generated policy loads and knows every agent type and crossing the scenario uses', () => {
  const p = parsePolicy(evalRulesYaml(scenario), 'eval.yaml');
  assert.ok(p.data.crossDomain.allow.length >= 3);
});

test('novelty: learned silently, new afterwards once, benign unless injected, depth against what the root type ran', () => {
  const d = 'spiffe://t.example/agent';
  const link = (id: number, parent: number, delegatee: string, issuer = parent < 0 ? 'h@t.example' : ''): PlannedLink =>
    ({ id, parent, taskId: `task-${id}`, issuer, delegatee, scope: [], iatMs: 0, ttlSec: 60, jti: `j${id}`, purpose: '' });
  const links = [
    link(0, -1, `${d}/lead/i-0`), link(1, 0, `${d}/worker/i-0`, `${d}/lead/i-0`), // learned
    link(2, -1, `${d}/lead/i-0`), link(3, 2, `${d}/worker/i-1`, `${d}/lead/i-0`), // a new instance: benign new edge
    link(4, -1, `${d}/lead/i-0`), link(5, 4, `${d}/worker/i-0`, `${d}/lead/i-0`), link(6, 5, `${d}/lead/i-0`, `${d}/worker/i-0`), // injected: deeper, new type edge and path
  ];
  const span = (l: number, at: number, verdict: 'verified' | 'failed' = 'verified') => ({ link: l, receivedAtMs: at, expect: { verdict } }) as PlannedSpan;
  const spans = [span(0, 10), span(1, 10), span(3, 200), span(5, 300), span(6, 300), span(3, 50, 'failed')];
  const uses = links.map((l) => ({ link: l.id, agent: l.delegatee, taskId: l.taskId, tenant: 't.example', injection: l.id >= 4 ? 'x' : undefined }));
  const labels = noveltyLabels(uses, links, spans, { learningEndsMs: 100, depthBound: 2 });
  const of = (kind: string) => labels.filter((l) => l.kind === kind);
  assert.deepEqual(pathOf(links, 6), [`${d}/lead/i-0`, `${d}/worker/i-0`, `${d}/lead/i-0`]);
  assert.deepEqual(of('delegation.new_edge').map((l) => [l.injection, l.taskIds]), [[null, ['task-3']], ['x', ['task-6']]], 'the failed span taught nothing');
  assert.deepEqual(of('delegation.new_edge_type').map((l) => l.injection), ['x']);
  assert.deepEqual(of('delegation.new_path'), [], 'a new type edge explains the new path');
  assert.deepEqual(of('chain.depth_unusual').map((l) => l.taskIds), [['task-6']]);
  assert.deepEqual(of('chain.depth_exceeded').map((l) => l.taskIds), [['task-6']]);
  assert.deepEqual(of('delegation.new_domain_crossing'), []);
});

test('novelty: a path of known type edges in a new combination is a new path, alone', () => {
  const d = 'spiffe://t.example/agent';
  const link = (id: number, parent: number, delegatee: string, issuer: string): PlannedLink =>
    ({ id, parent, taskId: `task-${id}`, issuer, delegatee, scope: [], iatMs: 0, ttlSec: 60, jti: `j${id}`, purpose: '' });
  const links = [
    link(0, -1, `${d}/lead/i-0`, 'h@t.example'), link(1, 0, `${d}/worker/i-0`, `${d}/lead/i-0`),
    link(2, -1, `${d}/worker/i-0`, 'h@t.example'), link(3, 2, `${d}/tool/i-0`, `${d}/worker/i-0`),
    link(4, -1, `${d}/lead/i-0`, 'h@t.example'), link(5, 4, `${d}/worker/i-0`, `${d}/lead/i-0`), link(6, 5, `${d}/tool/i-0`, `${d}/worker/i-0`),
  ];
  const spans = links.map((l) => ({ link: l.id, receivedAtMs: l.id < 4 ? 10 : 200, expect: { verdict: 'verified' } }) as PlannedSpan);
  const uses = links.map((l) => ({ link: l.id, agent: l.delegatee, taskId: l.taskId, tenant: 't.example', injection: 'x' }));
  const labels = noveltyLabels(uses, links, spans, { learningEndsMs: 100, depthBound: 5 });
  assert.deepEqual(labels.map((l) => [l.kind, l.taskIds[0]]), [['delegation.new_path', 'task-6'], ['chain.depth_unusual', 'task-6']]);
});

test('scoring: matched by task or by a subject naming one of the label\'s strings, benign apart, unexpected alerts lower precision, missed labels lower recall', () => {
  const label = (kind: Label['kind'], over: Partial<Label>): Label => ({ kind, tenant: 't', injection: 'i', taskIds: [], includes: [], story: '', ...over });
  const labels = [
    label('delegation.new_edge', { taskIds: ['t1'] }),
    label('delegation.new_edge', { taskIds: ['t9'] }),
    label('delegation.new_edge', { taskIds: ['t5'], injection: null }),
    label('resource.many_agents', { includes: ['arn:x'] }),
  ];
  const alert = (kind: string, over: Partial<ObservedAlert>): ObservedAlert => ({ id: Math.random().toString(), kind, tenant: 't', subject: '', taskId: '', agents: [], ...over });
  const s = scoreAlerts(labels, [
    alert('delegation.new_edge', { taskId: 't1' }),
    alert('delegation.new_edge', { taskId: 't5' }),
    alert('delegation.new_edge', { taskId: 't7' }),
    alert('resource.many_agents', { subject: 'arn:x', taskId: 'zz' }),
    alert('resource.cross_task', { subject: 'arn:x' }),
  ]);
  const edge = s.byKind.find((k) => k.kind === 'delegation.new_edge')!;
  assert.deepEqual([edge.labels, edge.found, edge.alerts, edge.anomaly, edge.benign, edge.unexpected], [2, 1, 3, 1, 1, 1]);
  assert.equal(recall(edge), 0.5);
  assert.equal(precision(edge), 1 / 3);
  const many = s.byKind.find((k) => k.kind === 'resource.many_agents')!;
  assert.equal(recall(many), 1);
  assert.equal(precision(many), 1);
  const cross = s.byKind.find((k) => k.kind === 'resource.cross_task')!;
  assert.equal(precision(cross), 0, 'a subject match of another kind does not count');
  const agentDetector = s.byDetector.find((d) => d.detector === 'cross-agent')!;
  assert.deepEqual([agentDetector.alerts, agentDetector.anomaly], [2, 1]);
  assert.match(formatScore(s), /delegation\.new_edge\s+2\s+1\s+3\s+1\s+1\s+1\s+50\.0%\s+33\.3%\s+66\.7%/);
});

test('the evaluation and demo detection configurations load with the real parser and say what the scenarios assume', () => {
  const registered = Object.keys(DETECTION_MODULES);
  const evalConfig = parseDetectionConfig(evalDetectionYaml(scenario.options, registered), 'eval.yaml');
  assert.equal(evalConfig.enabled, true);
  assert.equal(evalConfig.sections.paths.learningMs, scenario.options.learningDays * 86_400_000);
  assert.equal(evalConfig.sections.depth.max, scenario.options.depthBound);
  assert.ok(evalConfig.sections.paths.forgetAfterMs > scenario.options.days * 86_400_000, 'nothing is forgotten within the scenario');
  // A section this build does not register is left out rather than refused.
  assert.doesNotMatch(evalDetectionYaml(scenario.options, registered.filter((r) => r !== 'scope')), /^scope:/m);
  assert.throws(() => parseDetectionConfig(`${evalDetectionYaml(scenario.options, registered)}\nunknown_section: {}\n`, 'eval.yaml'), /unknown_section/);
  const demo = parseDetectionConfig(readFileSync(new URL('../../policies/demo-detection.yaml', import.meta.url), 'utf8'), 'demo-detection.yaml');
  assert.equal(demo.sections.paths.learningMs, 2000);
  assert.equal(demo.sections.depth.max, 3);
});
