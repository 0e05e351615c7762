/** Detector 2 (chain depth): the pure logic, no store. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alertId } from '../../src/detect/alert.js';
import { defaultDepthConfig, parseDepthConfig, type DepthConfig } from '../../src/detect/depth/config.js';
import { DepthDetector } from '../../src/detect/depth/detector.js';
import { DepthModel } from '../../src/detect/depth/depth-model.js';
import { agent, batchOf, linksOf } from '../support/detect-rows.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 1);
const A = 'acme.example';
const H = 'alice@acme.example';
const chainOf = (root: string, depth: number): string[] => [H, agent(A, root, 'i-1'), ...Array.from({ length: depth - 1 }, (_, i) => agent(A, `w${i}`))];
const config = (over: Partial<DepthConfig> = {}): DepthConfig => ({ ...defaultDepthConfig(), learningMs: 0, forgetAfterMs: 30 * DAY, max: 0, ...over });
const kinds = (out: { signals: { kind: string }[] }) => out.signals.map((s) => s.kind);

test('deeper than the deepest usual for the root type alerts once per new depth, with the usual depth as evidence', () => {
  const d = new DepthDetector(config());
  assert.deepEqual(d.observe(batchOf(T0, [chainOf('planner', 3), chainOf('reporter', 1)])).signals, [], 'no history yet: learned');
  assert.deepEqual(d.observe(batchOf(T0 + 1, [chainOf('planner', 1), chainOf('planner', 3)])).signals, [], 'at or under the usual depth');
  const deep = chainOf('planner', 5);
  const out = d.observe(batchOf(T0 + 2, [deep], linksOf(deep)));
  assert.deepEqual(kinds(out), ['chain.depth_unusual']);
  const s = out.signals[0]!;
  assert.equal(s.subject, 'spiffe://acme.example/agent/planner depth 5');
  assert.equal(s.evidence.facts.usual_max_depth, 3);
  assert.equal(s.evidence.linkIds.length, 5, 'every link of the chain found in the batch');
  assert.equal(s.severity, 'low');
  // Learned once raised: the same depth again is quiet; deeper still is a new alert.
  assert.deepEqual(d.observe(batchOf(T0 + DAY, [chainOf('planner', 5)])).signals, []);
  const deeper = d.observe(batchOf(T0 + DAY + 1, [chainOf('planner', 6)]));
  assert.equal(deeper.signals[0]!.subject, 'spiffe://acme.example/agent/planner depth 6');
  // Another root type has its own usual depth: depth 2 is deeper than the reporter's 1.
  assert.deepEqual(kinds(d.observe(batchOf(T0 + DAY + 2, [chainOf('reporter', 2)]))), ['chain.depth_unusual']);
});

test('nothing unusual while the tenant learns; the bound applies from the first chain', () => {
  const d = new DepthDetector(config({ learningMs: 7 * DAY, max: 4 }));
  d.observe(batchOf(T0, [chainOf('planner', 2)]));
  const out = d.observe(batchOf(T0 + DAY, [chainOf('planner', 5)]));
  assert.deepEqual(kinds(out), ['chain.depth_exceeded']);
  assert.equal(out.signals[0]!.evidence.facts.max_depth, 4);
  assert.equal(out.signals[0]!.severity, 'medium');
  assert.deepEqual(d.observe(batchOf(T0 + DAY, [chainOf('planner', 4)])).signals, [], 'at the bound is not over it');
  // Depth 5 was learned while learning, so after it only the bound speaks.
  assert.deepEqual(kinds(d.observe(batchOf(T0 + 8 * DAY, [chainOf('planner', 5)]))), ['chain.depth_exceeded']);
  assert.deepEqual(kinds(d.observe(batchOf(T0 + 9 * DAY, [chainOf('planner', 6)]))), ['chain.depth_unusual', 'chain.depth_exceeded']);
});

test('failed chains are not judged, and teach nothing', () => {
  const d = new DepthDetector(config({ max: 3 }));
  d.observe(batchOf(T0, [chainOf('planner', 2)]));
  assert.deepEqual(d.observe(batchOf(T0 + 1, [chainOf('planner', 9)], [], 'chain.parent_mismatch')).signals, []);
  assert.deepEqual(kinds(d.observe(batchOf(T0 + 2, [chainOf('planner', 4)]))), ['chain.depth_unusual', 'chain.depth_exceeded']);
});

test('the margin: depths within it neither alert nor raise the usual depth, so it cannot creep', () => {
  const m = new DepthModel(30 * DAY, 1, 100);
  m.teach(A, 'p', 3, T0);
  assert.equal(m.judge(A, 'p', 4, T0 + 1, false).unusual, false);
  assert.equal(m.usualMax(A, 'p', T0 + 1), 3, 'depth 4 is within the margin and not learned');
  assert.equal(m.judge(A, 'p', 5, T0 + 2, false).unusual, true);
  assert.equal(m.usualMax(A, 'p', T0 + 2), 5);
});

test('forget-after: depths not seen within the window stop being usual', () => {
  const m = new DepthModel(10 * DAY, 0, 100);
  m.teach(A, 'p', 2, T0);
  m.teach(A, 'p', 6, T0 - 20 * DAY);
  assert.equal(m.usualMax(A, 'p', T0), 2);
  assert.equal(m.judge(A, 'p', 3, T0 + DAY, false).unusual, true);
  assert.equal(m.usualMax(A, 'p', T0 + 20 * DAY), undefined, 'everything forgotten: no history, nothing to compare');
});

test('the baseline from the store sets the usual depth; two detectors derive one id for one depth', () => {
  const history = { chains: [{ path: chainOf('planner', 3), firstMs: T0 - DAY, lastMs: T0 - DAY }], tenants: [{ tenant: A, firstMs: T0 - 20 * DAY, lastMs: T0 - DAY }], truncated: false };
  const [d1, d2] = [new DepthDetector(config({ learningMs: 7 * DAY })), new DepthDetector(config({ learningMs: 7 * DAY }))];
  d1.learnHistory(history);
  d2.learnHistory(history);
  assert.deepEqual(d1.observe(batchOf(T0, [chainOf('planner', 3)])).signals, []);
  const a = d1.observe(batchOf(T0, [chainOf('planner', 4)])).signals.map((s) => alertId(s));
  const b = d2.observe(batchOf(T0 + 10, [chainOf('planner', 4)])).signals.map((s) => alertId(s));
  assert.equal(a.length, 1);
  assert.deepEqual(a, b);
});

test('the depth config: defaults, bounds, problems reported', () => {
  const problems: string[] = [];
  const c = parseDepthConfig(undefined, '/depth', problems);
  assert.deepEqual(problems, []);
  assert.equal(c.max, 5);
  assert.equal(c.margin, 0);
  const bad = parseDepthConfig({ max: 33, margin: 1.5, learning_sec: 'soon', severity: { exceeded: 'fatal' } }, '/depth', problems);
  assert.equal(problems.length, 4, problems.join('\n'));
  assert.equal(bad.max, 5);
  assert.equal(parseDepthConfig({ max: 0, margin: 2, forget_after_sec: 1_209_600 }, '/depth', []).max, 0);
});
