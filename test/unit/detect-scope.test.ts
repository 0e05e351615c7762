import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ScopeMatcher } from '../../src/verify/scope.js';
import { analyseUsage, formatShare, grantLeaves, suggestGrant } from '../../src/detect/scope/usage.js';
import { agentTypeKey, buildSubjects, type EdgeGrant, type EdgeUse } from '../../src/detect/scope/subjects.js';
import { judgeSubjects, severityForShare } from '../../src/detect/scope/findings.js';
import { parseScopeConfig, SCOPE_DEFAULTS, type ScopeConfig } from '../../src/detect/scope/config.js';
import { alertId } from '../../src/detect/alert.js';

const IMPLICATIONS = {
  'infrastructure:review': ['cloud:read', 'security:read', 'billing:read', 'reports:write'],
  'cloud:read': ['ec2:Describe*', 's3:List*', 'compute.instances.list'],
  'security:read': ['vulndb:query', 'config:Get*'],
  'billing:read': ['ce:Get*'],
  'reports:write': ['confluence:CreatePage'],
};
const M = new ScopeMatcher(IMPLICATIONS);
const PLAIN = new ScopeMatcher();
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);
const WS = NOW - 90 * DAY;
const use = (scope: string, lastUsedMs = NOW - DAY) => ({ scope, lastUsedMs });

test('a grant is judged in the leaf permissions its implications reach', () => {
  assert.deepEqual([...grantLeaves(M, ['cloud:read']).keys()].sort(), ['compute.instances.list', 'ec2:Describe*', 's3:List*']);
  assert.equal(grantLeaves(M, ['infrastructure:review']).size, 7);
  // A plain scope is its own leaf; a leaf another granted pattern covers adds nothing.
  assert.deepEqual([...grantLeaves(PLAIN, ['ec2:*', 'ec2:DescribeInstances', 'iam:PassRole']).keys()].sort(), ['ec2:*', 'iam:PassRole']);
});

test('share, unused leaves and when each was last used', () => {
  const a = analyseUsage(M, ['cloud:read'], [use('ec2:DescribeInstances'), use('s3:ListBuckets', WS - DAY)], WS);
  assert.equal(formatShare(a.share), '33%');
  assert.deepEqual(a.unused.map((l) => [l.scope, l.lastUsedMs]), [['compute.instances.list', null], ['s3:List*', WS - DAY]], 'a use before the window does not count, but its date is reported');
  assert.deepEqual(a.suggestion, ['ec2:DescribeInstances']);
});

test("the seed's agent using 10% of its grant", () => {
  const granted = Array.from({ length: 10 }, (_, i) => `tool:action${i}`);
  const a = analyseUsage(PLAIN, granted, [use('tool:action3')], WS);
  assert.equal(formatShare(a.share), '10%');
  assert.equal(a.unused.length, 9);
  assert.deepEqual(a.suggestion, ['tool:action3']);
});

test('a fully used grant has no unused leaf and keeps its names in the suggestion', () => {
  const a = analyseUsage(M, ['cloud:read'], [use('ec2:DescribeInstances'), use('s3:ListBuckets'), use('compute.instances.list')], WS);
  assert.equal(a.unused.length, 0);
  assert.equal(a.share, 1);
  assert.deepEqual(a.suggestion, ['cloud:read']);
});

test('using a broad scope itself exercises every leaf it reaches', () => {
  const a = analyseUsage(M, ['infrastructure:review'], [use('cloud:read')], WS);
  assert.deepEqual(a.leaves.filter((l) => l.used).map((l) => l.scope), ['compute.instances.list', 'ec2:Describe*', 's3:List*']);
  assert.deepEqual(a.suggestion, ['cloud:read']);
});

test('collapse into a named scope only when all it reaches was used', () => {
  const used = ['ec2:DescribeInstances', 's3:ListBuckets', 'compute.instances.list', 'vulndb:query', 'config:GetComplianceDetailsByResource', 'ce:GetCostAndUsage'].map((s) => use(s));
  const a = analyseUsage(M, ['infrastructure:review'], used, WS);
  assert.deepEqual(a.unused.map((l) => l.scope), ['confluence:CreatePage']);
  assert.deepEqual(a.suggestion, ['billing:read', 'cloud:read', 'security:read'], 'not infrastructure:review: it reaches the unused confluence:CreatePage');
  // cloud:read with s3:List* unused: its used members stay, cloud:read does not come back.
  const b = analyseUsage(M, ['cloud:read'], [use('ec2:DescribeInstances'), use('ec2:DescribeVolumes'), use('compute.instances.list')], WS);
  assert.deepEqual(b.suggestion, ['compute.instances.list', 'ec2:Describe*']);
});

test('a wildcard pattern collapses two or more used scopes, never one, and never one covering an unused leaf', () => {
  const granted = ['ec2:Describe*', 'ec2:Terminate*'];
  assert.deepEqual(analyseUsage(PLAIN, granted, [use('ec2:DescribeInstances')], WS).suggestion, ['ec2:DescribeInstances']);
  assert.deepEqual(analyseUsage(PLAIN, granted, [use('ec2:DescribeInstances'), use('ec2:DescribeVolumes')], WS).suggestion, ['ec2:Describe*']);
  const m = new ScopeMatcher({ 'ec2:admin': ['ec2:*'], 'ops:all': ['ec2:admin', 'iam:PassRole'] });
  const c = analyseUsage(m, ['ops:all'], [use('ec2:DescribeInstances'), use('ec2:StopInstances')], WS);
  assert.deepEqual(c.unused.map((l) => l.scope), ['iam:PassRole']);
  assert.deepEqual(c.suggestion, ['ec2:admin'], 'ec2:admin reaches only the used ec2:* leaf');
  assert.ok(!c.suggestion.includes('ops:all'));
});

test('a scope used beyond the grant (a failed action) is never suggested', () => {
  const a = analyseUsage(M, ['security:read'], [use('vulndb:query'), use('iam:CreateAccessKey'), use('')], WS);
  assert.deepEqual(a.suggestion, ['vulndb:query']);
  assert.deepEqual(suggestGrant(M, ['security:read'], ['iam:CreateAccessKey', '*'], []), []);
});

// Property: whatever the grant, implications and uses, the suggestion never grants more than the grant,
// keeps every in-window use the grant covers, and grants no unused leaf.
test('the suggestion never suggests more access (property)', () => {
  const scope = fc.constantFrom('a:x', 'a:y', 'a:*', 'a:x*', 'b:x', 'b:*', 'c', 'd', 'e:z', '*', 'k1', 'k2', 'k3');
  const implications = fc.dictionary(fc.constantFrom('k1', 'k2', 'k3', 'c', 'a:*'), fc.array(scope, { maxLength: 4 }), { maxKeys: 4 });
  fc.assert(
    fc.property(implications, fc.array(scope, { minLength: 1, maxLength: 5 }), fc.array(fc.tuple(scope, fc.boolean()), { maxLength: 8 }), (imp, granted, uses) => {
      const m = new ScopeMatcher(imp);
      const a = analyseUsage(m, granted, uses.map(([s, inWindow]) => use(s, inWindow ? NOW - DAY : WS - DAY)), WS);
      assert.ok(m.isSubset(a.suggestion, granted), `suggestion ${a.suggestion} beyond grant ${granted}`);
      for (const [s, inWindow] of uses) if (inWindow && m.coveredBy(granted, s)) assert.ok(m.coveredBy(a.suggestion, s), `use ${s} lost by ${a.suggestion}`);
      for (const l of a.unused) assert.ok(!m.coveredBy(a.suggestion, l.scope), `unused ${l.scope} granted by ${a.suggestion}`);
      assert.ok(a.share >= 0 && a.share <= 1);
    }),
    { numRuns: 2000 },
  );
});

test('the share reads as the seed writes it, rounded down', () => {
  assert.equal(formatShare(0.1), '10%');
  assert.equal(formatShare(0.996), '99%');
  assert.equal(formatShare(1), '100%');
  assert.equal(severityForShare(0.1), 'medium');
  assert.equal(severityForShare(0.5), 'low');
  assert.equal(severityForShare(0.9), 'info');
});

const H = 'alice@acme.example';
const P = 'spiffe://acme.example/agent/planning/p-1';
const I1 = 'spiffe://acme.example/agent/inventory/i-1';
const I2 = 'spiffe://acme.example/agent/inventory/i-2';
const old = (delegator: string, delegatee: string, scope: string): EdgeGrant => ({ delegator, delegatee, scope, firstGrantedMs: WS - DAY, lastGrantedMs: NOW - DAY });

test('agent types drop the instance; other IDs are their own type', () => {
  assert.equal(agentTypeKey(I1), 'spiffe://acme.example/agent/inventory/*');
  assert.equal(agentTypeKey('spiffe://acme.example/ns/prod/sa/x'), 'spiffe://acme.example/ns/prod/sa/x');
  assert.equal(agentTypeKey(H), H);
});

test('subjects: an agent folds every edge into it, a type every instance, an edge stays itself', () => {
  const grants = [old(H, P, 'infrastructure:review'), old(P, I1, 'cloud:read'), old(P, I2, 'cloud:read'), old(H, I1, 'billing:read')];
  const uses: EdgeUse[] = [{ delegator: P, delegatee: I1, scope: 'ec2:DescribeInstances', lastUsedMs: NOW - DAY }, { delegator: 'x', delegatee: 'y', scope: 'z', lastUsedMs: NOW }];
  const subjects = buildSubjects(grants, uses, ['agent', 'agent_type', 'edge']);
  const agent = subjects.find((s) => s.level === 'agent' && s.key === I1)!;
  assert.deepEqual(agent.granted.map((g) => g.scope).sort(), ['billing:read', 'cloud:read']);
  assert.equal(agent.parts, 2);
  assert.equal(agent.tenant, 'acme.example');
  const type = subjects.find((s) => s.level === 'agent_type')!;
  assert.equal(subjects.filter((s) => s.level === 'agent_type').length, 2);
  assert.ok(subjects.some((s) => s.key === 'spiffe://acme.example/agent/inventory/*' && s.agents.length === 2));
  assert.ok(type);
  assert.ok(subjects.some((s) => s.level === 'edge' && s.key === `${H} -> ${P}` && s.human === H));
  assert.ok(!subjects.some((s) => s.key === 'y'), 'a use without a grant makes no subject');
});

const cfg = (over: Partial<ScopeConfig> = {}): ScopeConfig => ({ ...SCOPE_DEFAULTS, levels: ['agent', 'agent_type', 'edge'], ...over });

test('findings: an old standing grant left mostly unused raises one alert per subject, a finer subject is not repeated', () => {
  const subjects = buildSubjects([old(P, I1, 'cloud:read')], [{ delegator: P, delegatee: I1, scope: 'ec2:DescribeInstances', lastUsedMs: NOW - DAY }], ['agent', 'agent_type', 'edge']);
  const out = judgeSubjects(subjects, cfg(), M, NOW);
  assert.equal(out.signals.length, 1, 'the type and the edge repeat the agent: one alert');
  const s = out.signals[0]!;
  assert.equal(s.kind, 'scope.over_provisioned');
  assert.equal(s.subject, I1);
  assert.equal(s.windowStartMs, 0);
  assert.equal(s.evidence.facts.usage_share, '33%');
  assert.deepEqual(s.evidence.facts.suggested_grant, ['ec2:DescribeInstances']);
  assert.deepEqual(s.evidence.facts.unused, ['compute.instances.list (never used)', 's3:List* (never used)']);
  assert.match(s.summary, /used 1 of 3 granted permissions \(33%\) over 90 days/);
  assert.equal(s.severity, 'low');
  // The same finding evaluated again is the same trigger.
  assert.equal(judgeSubjects(subjects, cfg(), M, NOW + 1000).signals[0]!.eventKey, s.eventKey, 'another evaluator in the same interval');
  assert.notEqual(judgeSubjects(subjects, cfg(), M, NOW + SCOPE_DEFAULTS.intervalMs).signals[0]!.eventKey, s.eventKey, 'the next interval: a new trigger of the same alert');
  assert.equal(alertId(s), alertId({ kind: s.kind, tenant: s.tenant, subject: I1, windowStartMs: 0 }));
});

test('findings: a grant newer than the window, or no longer granted, is not judged, and resolves', () => {
  const young: EdgeGrant = { delegator: P, delegatee: I1, scope: 'cloud:read', firstGrantedMs: WS + DAY, lastGrantedMs: NOW - DAY };
  const out = judgeSubjects(buildSubjects([young], [], ['agent']), cfg(), M, NOW);
  assert.equal(out.signals.length, 0);
  assert.equal(out.resolutions?.length, 1);
  const lapsed: EdgeGrant = { delegator: P, delegatee: I1, scope: 'cloud:read', firstGrantedMs: WS - DAY, lastGrantedMs: NOW - 8 * DAY };
  const out2 = judgeSubjects(buildSubjects([lapsed], [], ['agent']), cfg(), M, NOW);
  assert.equal(out2.signals.length, 0);
  assert.match(out2.resolutions?.[0]?.reason ?? '', /no scope has been granted/);
  // The same grant, standing: raised.
  assert.equal(judgeSubjects(buildSubjects([old(P, I1, 'cloud:read')], [], ['agent']), cfg(), M, NOW).signals.length, 1);
});

test('findings: a fully used grant resolves; the threshold holds back a mostly used one', () => {
  const grants = [old(P, I1, 'a'), old(P, I1, 'b'), old(P, I1, 'c'), old(P, I1, 'd')];
  const used = (n: number): EdgeUse[] => ['a', 'b', 'c', 'd'].slice(0, n).map((scope) => ({ delegator: P, delegatee: I1, scope, lastUsedMs: NOW - DAY }));
  const full = judgeSubjects(buildSubjects(grants, used(4), ['agent']), cfg(), PLAIN, NOW);
  assert.equal(full.signals.length, 0);
  assert.match(full.resolutions?.[0]?.reason ?? '', /every granted permission was used/);
  assert.equal(judgeSubjects(buildSubjects(grants, used(3), ['agent']), cfg(), PLAIN, NOW).signals.length, 1);
  assert.equal(judgeSubjects(buildSubjects(grants, used(3), ['agent']), cfg({ alertBelowShare: 0.5 }), PLAIN, NOW).signals.length, 0, '75% is not below 50%');
  assert.equal(judgeSubjects(buildSubjects(grants, used(1), ['agent']), cfg({ alertBelowShare: 0.5 }), PLAIN, NOW).signals.length, 1);
});

test('an agent ID without an instance is judged once, as the agent: no type subject shares its alert id', () => {
  const bare = 'spiffe://acme.example/agent/planner';
  const subjects = buildSubjects([old(H, bare, 'cloud:read')], [], ['agent', 'agent_type', 'edge']);
  assert.deepEqual(subjects.map((s) => s.level).sort(), ['agent', 'edge']);
  const out = judgeSubjects(subjects, cfg(), M, NOW);
  assert.deepEqual(out.signals.map((s) => s.subject), [bare]);
  assert.ok(!out.resolutions?.some((r) => r.subject === bare), 'nothing resolves the alert it raises');
});

test('findings: an agent with two delegators gets an edge finding of its own', () => {
  const grants = [old(P, I1, 'cloud:read'), old(H, I1, 'billing:read')];
  const uses: EdgeUse[] = [{ delegator: H, delegatee: I1, scope: 'ce:GetCostAndUsage', lastUsedMs: NOW - DAY }];
  const out = judgeSubjects(buildSubjects(grants, uses, ['agent', 'edge']), cfg({ levels: ['agent', 'edge'] }), M, NOW);
  assert.deepEqual(out.signals.map((s) => s.subject).sort(), [I1, `${P} -> ${I1}`].sort(), 'the fully used billing edge resolves, the unused cloud edge is raised');
  assert.ok(out.resolutions?.some((r) => r.subject === `${H} -> ${I1}`));
});

test('config: defaults, values, and every bad value reported with its place', () => {
  const problems: string[] = [];
  assert.deepEqual(parseScopeConfig(undefined, '/scope', problems), SCOPE_DEFAULTS);
  const c = parseScopeConfig({ window_sec: 10, interval_sec: 2, current_sec: 5, levels: ['edge'], alert_below_share: 0.5, enabled: false, implications: { a: ['b'] } }, '/scope', problems);
  assert.deepEqual(problems, []);
  assert.deepEqual([c.windowMs, c.intervalMs, c.currentMs, c.levels, c.alertBelowShare, c.enabled, c.implications], [10_000, 2_000, 5_000, ['edge'], 0.5, false, { a: ['b'] }]);
  const bad = parseScopeConfig({ window_sec: '90d', levels: ['team'], alert_below_share: 2, extra: 1, implications: { a: 'b' } }, '/scope', problems);
  assert.equal(bad.windowMs, SCOPE_DEFAULTS.windowMs);
  assert.deepEqual(problems.map((p) => p.split(':')[0]).sort(), ['/scope/alert_below_share', '/scope/extra', '/scope/implications', '/scope/levels', '/scope/window_sec']);
  parseScopeConfig([1], '/scope', problems);
  assert.match(problems.at(-1)!, /must be a mapping/);
});

test('the shipped example detection file states the scope and cross-agent defaults', async () => {
  const { readFileSync } = await import('node:fs');
  const { parseDetectionConfig, loadDetectionConfig } = await import('../../src/detect/config.js');
  const example = parseDetectionConfig(readFileSync(new URL('../../schemas/examples/detection.yaml', import.meta.url), 'utf8'), 'detection.yaml');
  const defaults = loadDetectionConfig(undefined);
  assert.deepEqual(example.sections.scope, defaults.sections.scope);
  assert.deepEqual(example.sections.cross_agent, defaults.sections.cross_agent);
});

test('findings: a subject with an edge recorded within the settle time is skipped, neither raised nor resolved; its other subjects are judged', () => {
  const P = 'spiffe://acme.example/agent/planning/p-1';
  const I1 = 'spiffe://acme.example/agent/inventory/i-1';
  const I2 = 'spiffe://acme.example/agent/inventory/i-2';
  const grants: EdgeGrant[] = [
    { delegator: P, delegatee: I1, scope: 'cloud:read', firstGrantedMs: WS - DAY, lastGrantedMs: NOW - DAY },
    { delegator: P, delegatee: I2, scope: 'cloud:read', firstGrantedMs: WS - DAY, lastGrantedMs: NOW - DAY },
  ];
  const config = parseScopeConfig({}, '/scope', []);
  const fresh = new Set([`${P} -> ${I1}`]);
  const subjects = buildSubjects(grants, [], ['agent', 'agent_type', 'edge'], fresh);
  assert.deepEqual(subjects.filter((s) => s.unsettled).map((s) => `${s.level} ${s.key}`).sort(), [`agent ${I1}`, 'agent_type spiffe://acme.example/agent/inventory/*', `edge ${P} -> ${I1}`]);
  const out = judgeSubjects(subjects, config, M, NOW);
  const touched = [...out.signals.map((s) => s.subject), ...(out.resolutions ?? []).map((r) => r.subject)];
  assert.ok(!touched.includes(I1) && !touched.includes('spiffe://acme.example/agent/inventory/*'), 'the unsettled subjects are left for the next evaluation');
  assert.ok(out.signals.some((s) => s.subject === I2), 'the settled agent is raised');
  // Without fresh edges the same grants raise both agents.
  const all = judgeSubjects(buildSubjects(grants, [], ['agent', 'agent_type', 'edge']), config, M, NOW);
  assert.ok(all.signals.some((s) => s.subject === I1) && all.signals.some((s) => s.subject === I2));
});
