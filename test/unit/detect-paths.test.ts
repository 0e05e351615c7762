/** Detector 1 (first-seen delegation edges and path shapes): the pure logic, no store. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alertId } from '../../src/detect/alert.js';
import { agentTypeOf, CONVENTION, parseAgentTyping } from '../../src/detect/paths/agent-type.js';
import { globMatcher, parseAllowlist } from '../../src/detect/paths/allowlist.js';
import { actionTimeMs, pathShape } from '../../src/detect/paths/chain-view.js';
import { defaultPathsConfig, parsePathsConfig, type PathsConfig } from '../../src/detect/paths/config.js';
import { PathsDetector } from '../../src/detect/paths/detector.js';
import { agent, batchOf, linksOf } from '../support/detect-rows.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 1);
const A = 'acme.example';
const P = 'partner.example';
const planner = agent(A, 'planner', 'i-1');
const inventory = agent(A, 'inventory', 'i-1');
const scanner = agent(A, 'scanner', 'i-1');
const ALICE = 'alice@acme.example';

const config = (over: Partial<PathsConfig> = {}): PathsConfig => ({ ...defaultPathsConfig(), learningMs: 7 * DAY, forgetAfterMs: 30 * DAY, ...over });
const kinds = (out: { signals: { kind: string }[] }) => out.signals.map((s) => s.kind).sort();

test('agent types: the instance is dropped by convention or by configured pattern; anything else is its own type', () => {
  assert.deepEqual(agentTypeOf('spiffe://acme.example/agent/planner/i-7', CONVENTION), { type: 'spiffe://acme.example/agent/planner', domain: 'acme.example' });
  assert.deepEqual(agentTypeOf('spiffe://acme.example/agent/planner', CONVENTION), { type: 'spiffe://acme.example/agent/planner', domain: 'acme.example' });
  assert.equal(agentTypeOf('spiffe://acme.example/ns/prod/sa/planner', CONVENTION).type, 'spiffe://acme.example/ns/prod/sa/planner');
  const problems: string[] = [];
  const typing = parseAgentTyping([{ path: '/ns/*/sa/{type}/*' }, { path: '/x/{type}/{type}' }, { path: 'no-slash/{type}' }, { path: '/a/{type}', trust_domain: 'UPPER' }], '/paths/agent_types', problems);
  assert.equal(problems.length, 3, problems.join('\n'));
  assert.equal(agentTypeOf('spiffe://acme.example/ns/prod/sa/planner/pod-1', typing).type, 'spiffe://acme.example/ns/prod/sa/planner');
  // Look-alikes never borrow a type: no decoding, no dot segments.
  assert.deepEqual(agentTypeOf('spiffe://acme.example/agent/%70lanner/i', CONVENTION), { type: 'spiffe://acme.example/agent/%70lanner/i', domain: '' });
  assert.deepEqual(agentTypeOf('alice@acme.example', CONVENTION), { type: 'alice@acme.example', domain: '' });
});

test('while a tenant learns nothing alerts; after learning a new edge raises each edge kind once, with its evidence', () => {
  const d = new PathsDetector(config());
  assert.deepEqual(d.observe(batchOf(T0, [[ALICE, planner, inventory]])).signals, []);
  // Still learning six days later: a new edge is learned silently.
  assert.deepEqual(d.observe(batchOf(T0 + 6 * DAY, [[ALICE, planner, scanner]])).signals, []);
  // Past learning: the edges learned stay quiet, a new one alerts.
  assert.deepEqual(d.observe(batchOf(T0 + 8 * DAY, [[ALICE, planner, inventory], [ALICE, planner, scanner]])).signals, []);
  const rogue = agent(A, 'rogue', 'r-1');
  const chain = [ALICE, planner, inventory, rogue];
  const out = d.observe(batchOf(T0 + 9 * DAY, [chain, chain], linksOf(chain)));
  assert.deepEqual(kinds(out), ['delegation.new_edge', 'delegation.new_edge_type'], 'once each, though two actions carried it; no new_path: the new type edge explains it');
  const byType = out.signals.find((s) => s.kind === 'delegation.new_edge_type')!;
  assert.equal(byType.subject, 'spiffe://acme.example/agent/inventory -> spiffe://acme.example/agent/rogue');
  assert.equal(byType.tenant, A);
  assert.equal(byType.windowStartMs, 0);
  assert.equal(byType.human, ALICE);
  assert.deepEqual(byType.evidence.linkIds, [`jti-${rogue}`]);
  assert.equal(byType.evidence.facts.link_jti, `jti-${rogue}`);
  assert.equal(byType.evidence.facts.first_span, byType.eventKey);
  assert.equal(byType.evidence.facts.last_seen_before, 'never');
  assert.equal(byType.evidence.facts.path, pathShape(['spiffe://acme.example/agent/planner', 'spiffe://acme.example/agent/inventory', 'spiffe://acme.example/agent/rogue']));
  assert.equal(byType.severity, 'low');
  assert.equal(out.signals.find((s) => s.kind === 'delegation.new_edge')!.severity, 'low');
  // Seen now: quiet from then on.
  assert.deepEqual(d.observe(batchOf(T0 + 10 * DAY, [chain])).signals, []);
});

test('learning is per tenant, counted from the tenant\'s first verified chain', () => {
  const d = new PathsDetector(config());
  d.observe(batchOf(T0, [[ALICE, planner, inventory]]));
  const bob = 'bob@partner.example';
  const pPlanner = agent(P, 'planner', 'p-1');
  // A new tenant shows up after acme.example finished learning: it learns on its own clock.
  assert.deepEqual(d.observe(batchOf(T0 + 20 * DAY, [[bob, pPlanner, agent(P, 'worker', 'w')]])).signals, []);
  // ...while acme.example is past learning and alerts.
  assert.ok(d.observe(batchOf(T0 + 20 * DAY, [[ALICE, planner, scanner]])).signals.length > 0);
  // A failed chain does not start a tenant's clock: its first verified chain does.
  const d2 = new PathsDetector(config());
  d2.observe(batchOf(T0, [[ALICE, planner, inventory]], [], 'signature.invalid'));
  assert.deepEqual(d2.observe(batchOf(T0 + 8 * DAY, [[ALICE, planner, inventory]])).signals, [], 'learning starts at T0 + 8d');
});

test('forget-after: an edge not seen for longer than the window is new again; one seen within it is not', () => {
  const d = new PathsDetector(config({ learningMs: 0, forgetAfterMs: 10 * DAY }));
  d.observe(batchOf(T0, [[ALICE, planner, inventory]]));
  assert.deepEqual(d.observe(batchOf(T0 + 10 * DAY, [[ALICE, planner, inventory]])).signals, [], 'exactly the window: still known');
  d.observe(batchOf(T0 + 15 * DAY, [[ALICE, planner, scanner]])); // the tenant stays active
  const again = d.observe(batchOf(T0 + 20 * DAY + 1, [[ALICE, planner, inventory]]));
  assert.deepEqual(kinds(again), ['delegation.new_edge', 'delegation.new_edge_type']);
  assert.equal(again.signals[0]!.evidence.facts.last_seen_before, new Date(T0 + 10 * DAY).toISOString());
});

test('a silent tenant relearns after forget-after instead of raising every forgotten edge', () => {
  const d = new PathsDetector(config({ learningMs: 2 * DAY, forgetAfterMs: 10 * DAY }));
  d.observe(batchOf(T0, [[ALICE, planner, inventory]]));
  assert.deepEqual(d.observe(batchOf(T0 + 30 * DAY, [[ALICE, planner, inventory], [ALICE, planner, scanner]])).signals, []);
  assert.ok(d.observe(batchOf(T0 + 33 * DAY, [[ALICE, planner, agent(A, 'rogue')]])).signals.length > 0, 'learning ended again');
});

test('every crossing of trust domains is remembered by domain pair', () => {
  const d = new PathsDetector(config({ learningMs: 0 }));
  d.observe(batchOf(T0, [[ALICE, planner, inventory]]));
  const partnerAgent = agent(P, 'auditor', 'a-1');
  const out = d.observe(batchOf(T0 + 1, [[ALICE, planner, partnerAgent]]));
  assert.deepEqual(kinds(out), ['delegation.new_domain_crossing', 'delegation.new_edge', 'delegation.new_edge_type']);
  const crossing = out.signals.find((s) => s.kind === 'delegation.new_domain_crossing')!;
  assert.equal(crossing.subject, `${A} -> ${P}`);
  assert.equal(crossing.severity, 'medium');
  // Another agent pair across the same domains: new edges, but not a new crossing.
  const out2 = d.observe(batchOf(T0 + 2, [[ALICE, inventory, agent(P, 'auditor', 'a-2')]]));
  assert.ok(!kinds(out2).includes('delegation.new_domain_crossing'));
  // Within one domain there is no crossing at all.
  assert.ok(!kinds(d.observe(batchOf(T0 + 3, [[ALICE, planner, agent(A, 'fresh')]]))).includes('delegation.new_domain_crossing'));
});

test('path shapes: known edges in a new combination, and a new root type, raise new_path', () => {
  const d = new PathsDetector(config({ learningMs: 0 }));
  d.observe(batchOf(T0, [[ALICE, planner, inventory], [ALICE, inventory, scanner]]));
  const out = d.observe(batchOf(T0 + 1, [[ALICE, planner, inventory, scanner]]));
  assert.deepEqual(kinds(out), ['delegation.new_path']);
  assert.equal(out.signals[0]!.subject, 'human > spiffe://acme.example/agent/planner > spiffe://acme.example/agent/inventory > spiffe://acme.example/agent/scanner');
  // Another instance of the same types: the same shape, no alert by type; a new id edge only.
  assert.deepEqual(kinds(d.observe(batchOf(T0 + 2, [[ALICE, agent(A, 'planner', 'i-2'), inventory, scanner]]))), ['delegation.new_edge']);
  // A human delegating straight to a type never seen at the root: new path of one agent.
  const solo = d.observe(batchOf(T0 + 3, [[ALICE, scanner]]));
  assert.deepEqual(kinds(solo), ['delegation.new_path']);
  assert.equal(solo.signals[0]!.subject, 'human > spiffe://acme.example/agent/scanner');
});

test('failed chains neither alert nor teach', () => {
  const d = new PathsDetector(config({ learningMs: 0 }));
  d.observe(batchOf(T0, [[ALICE, planner, inventory]]));
  const forged = [ALICE, planner, agent(A, 'rogue')];
  assert.deepEqual(d.observe(batchOf(T0 + 1, [forged], [], 'signature.invalid')).signals, [], 'an unproven edge raises nothing here');
  assert.deepEqual(d.observe(batchOf(T0 + 2, [forged], [], 'policy.depth')).signals, []);
  // It taught nothing: the same edge on a verified chain is still new.
  assert.deepEqual(kinds(d.observe(batchOf(T0 + 3, [forged]))), ['delegation.new_edge', 'delegation.new_edge_type']);
});

test('two detectors meeting the same new edge derive the same alert ids', () => {
  const [d1, d2] = [new PathsDetector(config({ learningMs: 0 })), new PathsDetector(config({ learningMs: 0 }))];
  for (const d of [d1, d2]) d.observe(batchOf(T0, [[ALICE, planner, inventory]]));
  const chain = [ALICE, planner, agent(A, 'rogue', 'x')];
  const ids = (out: ReturnType<PathsDetector['observe']>) => out.signals.map((s) => alertId(s)).sort();
  const a = ids(d1.observe(batchOf(T0 + 1, [chain])));
  const b = ids(d2.observe(batchOf(T0 + 5, [chain])));
  assert.equal(a.length, 2);
  assert.deepEqual(a, b);
});

test('the baseline from the store keeps what it holds quiet; without it the same traffic alerts', () => {
  const history = {
    chains: [{ path: [ALICE, planner, inventory, scanner], firstMs: T0 - 20 * DAY, lastMs: T0 - DAY }],
    tenants: [{ tenant: A, firstMs: T0 - 20 * DAY, lastMs: T0 - DAY }],
    truncated: false,
  };
  const started = new PathsDetector(config());
  started.learnHistory(history);
  assert.deepEqual(started.observe(batchOf(T0, [[ALICE, planner, inventory, scanner], [ALICE, planner, inventory]])).signals, []);
  assert.ok(started.observe(batchOf(T0, [[ALICE, planner, agent(A, 'rogue')]])).signals.length > 0, 'learning ended 13 days ago');
  const cold = new PathsDetector(config({ learningMs: 0 }));
  assert.ok(cold.observe(batchOf(T0, [[ALICE, planner, inventory, scanner]])).signals.length > 0);
});

test('the allowlist: edges by agent or type pattern, crossings by domain, paths by type patterns; new values it allows are learned quietly', () => {
  const problems: string[] = [];
  const list = parseAllowlist(`
allow:
  - from: "spiffe://acme.example/agent/planner/**"
    to: "spiffe://acme.example/agent/*"
  - from_domain: acme.example
    to_domain: "*.example"
  - path: ["spiffe://acme.example/agent/inventory", "**", "spiffe://acme.example/agent/reporter"]
`, 'allow.yaml', problems);
  assert.deepEqual(problems, []);
  const d = new PathsDetector(config({ learningMs: 0 }), list);
  d.observe(batchOf(T0, [[ALICE, inventory, scanner]]));
  // planner → any acme agent type: allowed (by type, "*" within one segment).
  assert.deepEqual(d.observe(batchOf(T0 + 1, [[ALICE, planner, agent(A, 'anything', 'z')]])).signals.filter((s) => s.kind !== 'delegation.new_path'), []);
  // acme.example → partner.example: the crossing and its edges are allowed by the domain entry.
  assert.deepEqual(kinds(d.observe(batchOf(T0 + 2, [[ALICE, inventory, agent(P, 'auditor')]]))), []);
  // ...but not to a domain "*.example" does not cover in one label.
  assert.ok(kinds(d.observe(batchOf(T0 + 3, [[ALICE, inventory, agent('x.partner.example', 'auditor')]]))).includes('delegation.new_domain_crossing'));
  // A path with known edges in a new combination, allowed by its path entry (** = any types between).
  const reporter = agent(A, 'reporter');
  d.observe(batchOf(T0 + 4, [[ALICE, scanner, reporter]]));
  assert.deepEqual(kinds(d.observe(batchOf(T0 + 5, [[ALICE, inventory, scanner, reporter]]))), []);
  // The same combination rooted elsewhere is not allowed.
  d.observe(batchOf(T0 + 6, [[ALICE, planner, inventory]]));
  assert.deepEqual(kinds(d.observe(batchOf(T0 + 7, [[ALICE, planner, inventory, scanner, reporter]]))), ['delegation.new_path']);
});

test('allowlist entries that are malformed or allow everything are refused, and what they meant still alerts', () => {
  const problems: string[] = [];
  const list = parseAllowlist(`
allow:
  - {}
  - from: "**"
  - from: "spiffe://acme.example/agent/planner/**"
    unknown: 1
  - path: ["**"]
  - path: ["spiffe://acme.example/agent/x"]
    from: "y"
  - to: 7
`, 'a.yaml', problems);
  assert.equal(list.entries.length, 0);
  assert.equal(problems.length, 6, problems.join('\n'));
  const parsed = (text: string) => { const p: string[] = []; const l = parseAllowlist(text, 'f', p); return { l, p }; };
  assert.equal(parsed('allow: [').p.length > 0, true);
  assert.equal(parsed('other: []').p.length, 1);
  assert.equal(parsed('a: &a [*a, *a]\n').p.length > 0, true);
  assert.deepEqual(parsed('').l.entries, []);
  const d = new PathsDetector(config({ learningMs: 0 }), list);
  d.observe(batchOf(T0, [[ALICE, planner, inventory]]));
  assert.ok(d.observe(batchOf(T0 + 1, [[ALICE, planner, agent(A, 'rogue')]])).signals.length > 0);
});

test('memory past its bound forgets the least recently seen values, which then alert again under the same id', () => {
  const d = new PathsDetector(config({ learningMs: 0, maxKeys: 100 }));
  const first = d.observe(batchOf(T0, [[ALICE, planner, agent(A, 'w0')]]));
  for (let i = 1; i <= 60; i++) d.observe(batchOf(T0 + i * DAY / 100, [[ALICE, planner, agent(A, `w${i}`)]]));
  assert.ok(d.stats().evicted > 0);
  assert.ok(d.stats().values <= 100);
  const again = d.observe(batchOf(T0 + DAY, [[ALICE, planner, agent(A, 'w0')]]));
  const idsOf = (o: typeof first) => o.signals.filter((s) => s.kind === 'delegation.new_edge').map((s) => alertId(s));
  assert.equal(idsOf(again).length, 1, 'forgotten past the bound: alerts again (never silence)');
  assert.deepEqual(idsOf(again), idsOf(first), '...under the id already raised');
});

test('the paths config: defaults, every field read, bad values reported with their defaults kept', () => {
  const problems: string[] = [];
  const dflt = parsePathsConfig(undefined, '/paths', problems);
  assert.deepEqual(problems, []);
  assert.equal(dflt.learningMs, 7 * DAY);
  assert.equal(dflt.forgetAfterMs, 30 * DAY);
  const c = parsePathsConfig({ learning_sec: 43_200, forget_after_sec: 86_400, allowlist: 'allow.yaml', max_keys: 500, severity: { new_path: 'high' }, agent_types: [{ path: '/agent/{type}/*' }] }, '/paths', problems);
  assert.deepEqual(problems, []);
  assert.equal(c.learningMs, 12 * 3_600_000);
  assert.equal(c.forgetAfterMs, DAY);
  assert.equal(c.allowlistFile, 'allow.yaml');
  assert.equal(c.severity.newPath, 'high');
  assert.equal(c.agentTypes.patterns.length, 1);
  const bad = parsePathsConfig({ learning_sec: '7d', forget_after_sec: 0, max_keys: -1, severity: { new_path: 'urgent' }, typo: 1, agent_types: [{ path: 'x' }] }, '/paths', problems);
  assert.equal(problems.length, 6, problems.join('\n'));
  assert.ok(problems.every((p) => /^\/paths\/[a-z_]+(\/[a-z_0-9]+)*: /.test(p)), 'every problem starts with its field\'s JSON pointer');
  assert.equal(bad.learningMs, 7 * DAY);
  assert.equal(bad.forgetAfterMs, 30 * DAY);
  assert.ok(problems.some((p) => p.startsWith('/paths/typo: unknown field')));
  const notMapping: string[] = [];
  assert.equal(parsePathsConfig('yes', '/paths', notMapping).enabled, true);
  assert.deepEqual(notMapping, ['/paths: must be a mapping']);
});

test('action times read from DateTime64 text or 19-digit nanoseconds', () => {
  assert.equal(actionTimeMs('1764000000123456789', 0), 1764000000123);
  assert.equal(actionTimeMs('2026-03-27 14:00:00.123456789', 0), Date.UTC(2026, 2, 27, 14, 0, 0, 123));
  assert.equal(actionTimeMs('garbage', 42), 42);
});

test('the detection file: the paths and depth sections are read through the registry, problems placed in the file', async () => {
  const { parseDetectionConfig } = await import('../../src/detect/config.js');
  const { buildDetectors } = await import('../../src/detect/registry.js');
  const cfg = parseDetectionConfig('paths:\n  learning_sec: 3600\n  allowlist: allow.yaml\ndepth:\n  max: 4\n', 'd.yaml');
  assert.equal(cfg.sections.paths.learningMs, 3_600_000);
  assert.equal(cfg.sections.depth.max, 4);
  assert.deepEqual(buildDetectors(cfg).streaming.map((d) => d.name).filter((n) => n === 'paths' || n === 'depth'), ['paths', 'depth']);
  const off = parseDetectionConfig('paths:\n  enabled: false\ndepth:\n  enabled: false\n', 'd.yaml');
  assert.deepEqual(buildDetectors(off).streaming.map((d) => d.name).filter((n) => n === 'paths' || n === 'depth'), []);
  assert.throws(() => parseDetectionConfig('paths:\n  forget_after_sec: 5\n', 'd.yaml'), /d\.yaml:2:21: \/paths\/forget_after_sec: must be an integer from 60/);
});

test('kinds left out of `kinds` are learned but not raised', () => {
  const problems: string[] = [];
  const c = parsePathsConfig({ learning_sec: 0, kinds: ['delegation.new_edge_type', 'delegation.new_path'] }, '/paths', problems);
  assert.deepEqual(problems, []);
  parsePathsConfig({ kinds: ['delegation.new_thing'] }, '/paths', problems);
  assert.deepEqual(problems, ['/paths/kinds: must be a list of delegation.new_edge, delegation.new_edge_type, delegation.new_domain_crossing, delegation.new_path']);
  const d = new PathsDetector(c);
  d.observe(batchOf(T0, [[ALICE, planner, inventory]]));
  // A new instance of known types: only new_edge would say so, and it is off.
  assert.deepEqual(d.observe(batchOf(T0 + 1, [[ALICE, planner, agent(A, 'inventory', 'i-9')]])).signals, []);
  assert.deepEqual(kinds(d.observe(batchOf(T0 + 2, [[ALICE, planner, agent(P, 'x')]]))), ['delegation.new_edge_type']);
  // Without new_edge_type, the new path a new type edge makes is raised instead.
  const paths = new PathsDetector(parsePathsConfig({ learning_sec: 0, kinds: ['delegation.new_path'] }, '/paths', problems));
  paths.observe(batchOf(T0, [[ALICE, planner, inventory]]));
  assert.deepEqual(kinds(paths.observe(batchOf(T0 + 1, [[ALICE, planner, agent(A, 'rogue')]]))), ['delegation.new_path']);
});

test('a path in constant use stays known past forget-after; new tasks along a known path are not judged again within the hour', () => {
  const d = new PathsDetector(config({ learningMs: 0, forgetAfterMs: 2 * DAY }));
  d.observe(batchOf(T0, [[ALICE, planner, inventory]]));
  for (let t = T0 + 3_600_000; t <= T0 + 5 * DAY; t += 3_600_000) assert.deepEqual(d.observe(batchOf(t, [[ALICE, planner, inventory]])).signals, []);
  // Within the hour the same path is not judged again: nothing raised, nothing added.
  const before = d.stats().values;
  assert.deepEqual(d.observe(batchOf(T0 + 5 * DAY + 1, [[ALICE, planner, inventory]])).signals, []);
  assert.equal(d.stats().values, before);
});

test('allowlist globs: regular-expression characters are literal, "*" stays within its segment, a trailing "/**" also matches the bare prefix', () => {
  const literal = globMatcher('spiffe://a.example/agent/(x|y)+.[z]', '/');
  assert.equal(literal('spiffe://a.example/agent/(x|y)+.[z]'), true);
  assert.equal(literal('spiffe://a.example/agent/x'), false);
  assert.equal(literal('spiffe://aXexample/agent/(x|y)+.[z]'), false, '"." is not any character');
  const one = globMatcher('spiffe://a.example/agent/*', '/');
  assert.equal(one('spiffe://a.example/agent/planner'), true);
  assert.equal(one('spiffe://a.example/agent/planner/i-1'), false);
  const tree = globMatcher('spiffe://a.example/agent/planner/**', '/');
  assert.equal(tree('spiffe://a.example/agent/planner'), true);
  assert.equal(tree('spiffe://a.example/agent/planner/i-1/x'), true);
  assert.equal(tree('spiffe://a.example/agent/plannerX'), false);
  const domain = globMatcher('*.partner.example', '.');
  assert.equal(domain('eu.partner.example'), true);
  assert.equal(domain('a.b.partner.example'), false);
  assert.equal(domain('partner.example'), false);
  assert.equal(globMatcher('a\\b', '/')('a\\b'), true);
});

test('the example allowlist file loads without a problem', async () => {
  const { loadAllowlist } = await import('../../src/detect/paths/allowlist-file.js');
  const problems: string[] = [];
  const list = await loadAllowlist(new URL('../../schemas/examples/paths-allowlist.yaml', import.meta.url).pathname, problems);
  assert.deepEqual(problems, []);
  assert.equal(list.entries.length, 3);
  const missing: string[] = [];
  assert.deepEqual((await loadAllowlist('/nonexistent/allow.yaml', missing)).entries, []);
  assert.match(missing[0]!, /cannot be read \(ENOENT\)/);
});

test('memory is bounded by the length of what it remembers too: long agent IDs evict sooner, never grow it past the budget', async () => {
  const { FirstSeenMemory, AVERAGE_KEY_BUDGET } = await import('../../src/detect/paths/learning.js');
  const m = new FirstSeenMemory(DAY, 100);
  const long = 'x'.repeat(20_000);
  for (let i = 0; i < 10; i++) m.teach(`${long}${i}`, T0);
  assert.ok(m.size * 20_000 <= 100 * AVERAGE_KEY_BUDGET, `${m.size} long keys kept`);
  assert.ok(m.evicted > 0);
  assert.equal(m.see(`${long}9`, T0 + 1), true, 'the newest is kept');
  assert.equal(m.see(`${long}0`, T0 + 1), false, 'the oldest went first, and is new again');
  // One value longer than the whole budget is never remembered: it is new each time (alerts, never silence).
  const huge = 'y'.repeat(100 * AVERAGE_KEY_BUDGET + 1);
  m.teach(huge, T0);
  assert.equal(m.see(huge, T0 + 1), false);
});
