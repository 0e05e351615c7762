/**
 * The seed's six policy rows under the shipped policy (policies/default.yaml):
 * each rule has a passing and a failing case, and a violation names its rule.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateAction, evaluateChain } from '../../src/policy/engine.js';
import type { PolicyDecision } from '../../src/policy/types.js';
import { A, act, approval, chainOf, healthy, shippedPolicy, T0 } from '../support/policy-fixtures.js';

const policy = shippedPolicy();
const violated = (d: PolicyDecision) => d.reasons.map((r) => `${r.code}@${r.link ?? '-'}`).sort();

test('a healthy chain and action are allowed, naming the rules that applied', () => {
  const d = evaluateAction(policy, act(healthy(), ['ec2:DescribeInstances']));
  assert.equal(d.result, 'allow', JSON.stringify(d.reasons));
  assert.deepEqual(d.reasons, []);
  for (const r of ['agent-type.known', 'depth.global', 'scope.diminishment', 'lifetime.max']) assert.ok(d.rules.includes(r), r);
  assert.equal(d.policyVersion, '2026-11-29.1');
  assert.match(d.revision, /^[0-9a-f]{64}$/);
});

describe('maximum depth', () => {
  const hops = (n: number, root = 'planning') =>
    Array.from({ length: n }, (_, i) => ({ sub: A(i === 0 ? root : 'cloud-inventory', `i${i}`), scope: ['reports:read'] }));
  test('global: 5 links pass, 6 fail at the sixth', () => {
    assert.equal(evaluateChain(policy, chainOf(hops(5))).result, 'allow');
    assert.deepEqual(violated(evaluateChain(policy, chainOf(hops(6)))), ['policy.depth.global@5']);
  });
  test('per root agent type: analytics-rooted chains stop at 2', () => {
    assert.equal(evaluateChain(policy, chainOf(hops(2, 'analytics'))).result, 'allow');
    const d = evaluateChain(policy, chainOf(hops(3, 'analytics')));
    assert.deepEqual(violated(d), ['policy.depth.from-analytics@2']);
    assert.ok(!evaluateChain(policy, chainOf(hops(3))).rules.includes('depth.from-analytics'));
  });
  test('per trust domain: counts the links the span carried, even undecoded ones', () => {
    const d = evaluateChain(policy, chainOf(hops(4), { depth: 6 }));
    assert.deepEqual(violated(d), ['policy.depth.global@5', 'policy.input.incomplete@-']);
  });
});

describe('scope diminishment and wildcards', () => {
  test('implications let a child narrow its parent; an action within the last link passes', () => {
    assert.equal(evaluateAction(policy, act(healthy(), ['ec2:DescribeInstances'])).result, 'allow');
  });
  test('a child granting more than its parent fails at that link', () => {
    const c = chainOf([
      { sub: A('planning'), scope: ['cloud:read'] },
      { sub: A('cloud-inventory'), scope: ['cloud:read', 'iam:CreateAccessKey'] },
    ]);
    assert.deepEqual(violated(evaluateChain(policy, c)), ['policy.scope.diminishment@1']);
  });
  test('an action beyond the last link fails', () => {
    assert.deepEqual(violated(evaluateAction(policy, act(healthy(), ['iam:CreateAccessKey']))), ['policy.scope.diminishment@-']);
  });
  test('a wildcard with fewer fixed characters than minPrefixLength fails; a long enough one passes', () => {
    const c = (s: string) => chainOf([{ sub: A('planning'), scope: [s] }]);
    assert.equal(evaluateChain(policy, c('ec2:*')).result, 'allow');
    assert.deepEqual(violated(evaluateChain(policy, c('ec*'))), ['policy.scope.wildcard@0']);
    // `*` also names every sensitive scope, so it needs an approval as well.
    assert.deepEqual(violated(evaluateChain(policy, c('*'))), ['policy.approval.pii@0', 'policy.scope.wildcard@0']);
  });
});

describe('temporal limits', () => {
  test('global lifetime: 4 h passes, 4 h + 1 s fails', () => {
    assert.equal(evaluateChain(policy, chainOf([{ sub: A('planning'), scope: ['cloud:read'], life: 14400 }])).result, 'allow');
    assert.deepEqual(violated(evaluateChain(policy, chainOf([{ sub: A('planning'), scope: ['cloud:read'], life: 14401 }]))), ['policy.lifetime.max@0']);
  });
  test('per scope: links carrying write scopes (or implying them) live at most 2 h', () => {
    assert.equal(evaluateChain(policy, chainOf([{ sub: A('planning'), scope: ['reports:write'], life: 7200 }])).result, 'allow');
    assert.deepEqual(violated(evaluateChain(policy, chainOf([{ sub: A('planning'), scope: ['reports:write'], life: 7201 }]))), ['policy.lifetime.write@0']);
    // infrastructure:review implies reports:write, so the 2 h cap applies to it too.
    assert.deepEqual(violated(evaluateChain(policy, chainOf([{ sub: A('planning'), scope: ['infrastructure:review'], life: 7201 }]))), ['policy.lifetime.write@0']);
    // A read-only link may live 4 h.
    assert.equal(evaluateChain(policy, chainOf([{ sub: A('planning'), scope: ['cloud:read'], life: 7201 }])).result, 'allow');
  });
  test('per depth: links at depth 4 and below live at most 30 min', () => {
    const hops = (life: number) => [0, 1, 2, 3].map((i) => ({ sub: A(i === 0 ? 'planning' : 'cloud-inventory', `i${i}`), scope: ['reports:read'], life: i === 3 ? life : 3600 }));
    assert.equal(evaluateChain(policy, chainOf(hops(1800))).result, 'allow');
    assert.deepEqual(violated(evaluateChain(policy, chainOf(hops(1801)))), ['policy.lifetime.deep@3']);
  });
});

describe('agent type restrictions', () => {
  test('planning may delegate to execution; cloud-inventory may not', () => {
    const ok = chainOf([{ sub: A('planning'), scope: ['cloud:read'] }, { sub: A('execution'), scope: ['cloud:read'] }]);
    assert.equal(evaluateChain(policy, ok).result, 'allow');
    assert.ok(evaluateChain(policy, ok).rules.includes('types.execution-from-planning'));
    const bad = chainOf([{ sub: A('planning'), scope: ['cloud:read'] }, { sub: A('cloud-inventory'), scope: ['cloud:read'] }, { sub: A('execution'), scope: ['cloud:read'] }]);
    assert.deepEqual(violated(evaluateChain(policy, bad)), ['policy.types.execution-from-planning@2']);
  });
  test('a human may not hand work straight to an execution agent', () => {
    assert.deepEqual(violated(evaluateChain(policy, chainOf([{ sub: A('execution'), scope: ['cloud:read'] }]))), ['policy.types.execution-from-planning@0']);
  });
  test('an ID no pattern matches, or with an unlisted type, is denied', () => {
    const d = evaluateChain(policy, chainOf([{ sub: 'spiffe://acme.example/workload/planning/i1', scope: ['cloud:read'] }]));
    assert.deepEqual(violated(d), ['policy.agent-type.known@0']);
    assert.deepEqual(violated(evaluateChain(policy, chainOf([{ sub: A('mystery'), scope: ['cloud:read'] }]))), ['policy.agent-type.known@0']);
  });
});

describe('cross-domain restrictions', () => {
  const cross = (type: string, scope: string[], from = 'planning') =>
    chainOf([{ sub: A(from), scope: ['billing:read', 'reports:read', 'cloud:read'] }, { sub: A(type, 'p1', 'partner.example'), scope }], {});
  test('the allowed crossing passes and names the rule that allowed it', () => {
    const d = evaluateChain(policy, cross('analytics', ['billing:read']));
    assert.equal(d.result, 'allow', JSON.stringify(d.reasons));
    assert.ok(d.rules.includes('cross.acme-to-partner-analytics'));
  });
  test('beyond the rule: another delegatee type, another delegator type, more scope', () => {
    assert.deepEqual(violated(evaluateChain(policy, cross('cloud-inventory', ['billing:read']))), ['policy.cross.acme-to-partner-analytics@1']);
    assert.deepEqual(violated(evaluateChain(policy, cross('analytics', ['billing:read'], 'cloud-inventory'))), ['policy.cross.acme-to-partner-analytics@1']);
    assert.deepEqual(violated(evaluateChain(policy, cross('analytics', ['reports:read', 'cloud:read']))), ['policy.cross.acme-to-partner-analytics@1']);
  });
  test('default deny: a pair of domains no rule names', () => {
    const c = chainOf([{ sub: A('planning'), scope: ['cloud:read'] }, { sub: A('analytics', 'e1', 'evil.example'), scope: ['cloud:read'] }]);
    assert.deepEqual(violated(evaluateChain(policy, c)), ['policy.cross-domain.default@1']);
  });
});

describe('human approval', () => {
  const pii = () => chainOf([{ sub: A('planning'), scope: ['pii:read', 'reports:write'] }]);
  test('a sensitive scope with a verified approval bound to the link passes', () => {
    const c = pii();
    c.approvals = [approval(c, 0, ['pii:*'])];
    const d = evaluateAction(policy, act(c, ['pii:read']));
    assert.equal(d.result, 'allow', JSON.stringify(d.reasons));
    assert.ok(d.rules.includes('approval.pii'));
  });
  test('without one it fails; with an unverified one it fails saying why', () => {
    assert.deepEqual(violated(evaluateChain(policy, pii())), ['policy.approval.pii@0']);
    const c = pii();
    c.approvals = [approval(c, 0, ['pii:*'], { verified: false, error: 'key k1 is not acme.example\'s authorization key' })];
    const d = evaluateChain(policy, c);
    assert.deepEqual(violated(d), ['policy.approval.pii@0']);
    assert.match(d.reasons[0]!.message, /not acme\.example's authorization key/);
  });
  test('an approval is checked against the action time', () => {
    const c = pii();
    c.approvals = [approval(c, 0, ['pii:read'], { iat: T0, exp: T0 + 30 })];
    assert.deepEqual(violated(evaluateAction(policy, act(c, ['pii:read'], { atMs: (T0 + 60) * 1000 }))), ['policy.approval.pii@0']);
    assert.equal(evaluateAction(policy, act(c, ['pii:read'], { atMs: (T0 + 10) * 1000 })).result, 'allow');
  });
});
