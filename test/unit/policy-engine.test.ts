/**
 * The engine's contract: it never throws, it denies whatever it does not
 * understand, allow means no reasons, and the cached engine answers exactly
 * as the pure one, never with a decision from a replaced policy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { evaluateAction, evaluateChain } from '../../src/policy/engine.js';
import { PolicyEngine } from '../../src/policy/policy-engine.js';
import { parsePolicy } from '../../src/policy/loader.js';
import type { PolicyDecision } from '../../src/policy/types.js';
import { act, healthy, shippedPolicy } from '../support/policy-fixtures.js';
import { actionInputArb, chainInputArb } from '../support/policy-inputs.js';

const policy = shippedPolicy();

function wellFormed(d: PolicyDecision): void {
  assert.ok(d.result === 'allow' || d.result === 'deny');
  assert.equal(d.result === 'allow', d.reasons.length === 0);
  for (const r of d.reasons) assert.equal(r.code, `policy.${r.rule}`);
  assert.equal(d.revision, policy.data.revision);
}

test('arbitrary values: never throws, always denies as input.invalid', () => {
  fc.assert(
    fc.property(fc.anything({ withBigInt: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true }), (v) => {
      for (const d of [evaluateChain(policy, v as never), evaluateAction(policy, v as never)]) {
        wellFormed(d);
        assert.equal(d.result, 'deny');
        assert.deepEqual(d.rules, ['input.invalid']);
      }
    }),
    { numRuns: 2000 },
  );
});

test('well-typed inputs with a field broken at random: never throws, denies', () => {
  const breakers: Array<(x: Record<string, unknown>) => void> = [
    (x) => ((x.links as Array<Record<string, unknown>>)[0]!.scope = ['ok', 7]),
    (x) => ((x.links as Array<Record<string, unknown>>)[0]!.exp = '1'),
    (x) => ((x.links as Array<Record<string, unknown>>)[0]!.sub = { toString: () => 'spiffe://acme.example/agent/planning/i1' }),
    (x) => (x.depth = -1),
    (x) => (x.depth = 1.5),
    (x) => (x.links = []),
    (x) => (x.approvals = [null]),
    (x) => ((x.action as Record<string, unknown>).atMs = Number.NaN),
    (x) => ((x.action as Record<string, unknown>).scopes = ['pii:read\u0000']),
    (x) => Object.defineProperty(x, 'links', { get: () => { throw new Error('hostile getter'); } }),
  ];
  fc.assert(
    fc.property(actionInputArb(), fc.constantFrom(...breakers.keys()), (input, k) => {
      const x = structuredClone(input) as unknown as Record<string, unknown>;
      breakers[k]!(x);
      const d = evaluateAction(policy, x as never);
      wellFormed(d);
      assert.equal(d.result, 'deny');
    }),
    { numRuns: 1000 },
  );
});

test('generated chains and actions: well-formed decisions; the cached engine agrees with the pure one', () => {
  const engine = new PolicyEngine(policy);
  fc.assert(
    fc.property(actionInputArb(), (input) => {
      const pure = evaluateAction(policy, input);
      wellFormed(pure);
      assert.deepEqual(engine.evaluateAction(input), pure);
      assert.deepEqual(engine.evaluateAction(input), pure); // second time from the cache
      assert.deepEqual(engine.evaluateChain(input), evaluateChain(policy, input));
    }),
    { numRuns: 1000 },
  );
  assert.ok(engine.stats.hits > 1000);
});

test('unknown agents, types and domains are denied, never allowed by omission', () => {
  fc.assert(
    fc.property(chainInputArb(), (input) => {
      const d = evaluateChain(policy, input);
      const unknown = input.links.some((l) => !/^spiffe:\/\/[a-z.]+\/agent\/(planning|cloud-inventory|security-scanner|cost-analyzer|report-generator|execution|analytics)(\/[A-Za-z0-9._-]+)?$/.test(l.sub) || /\/\.\.?$/.test(l.sub));
      if (unknown) assert.equal(d.result, 'deny', JSON.stringify(input.links.map((l) => l.sub)));
    }),
    { numRuns: 1000 },
  );
});

test('a policy swap drops cached decisions: the next answer is the new policy\'s', () => {
  const engine = new PolicyEngine(policy);
  const input = act(healthy(), ['ec2:DescribeInstances']);
  assert.equal(engine.evaluateAction(input).result, 'allow');
  const stricter = parsePolicy(readFileSync(new URL('../../policies/default.yaml', import.meta.url), 'utf8').replace('max: 5', 'max: 2').replace('version: "2026-11-29.1"', 'version: "strict"'));
  engine.swap(stricter);
  const d = engine.evaluateAction(input);
  assert.equal(d.result, 'deny');
  assert.equal(d.policyVersion, 'strict');
  assert.deepEqual(d.reasons.map((r) => r.code), ['policy.depth.global']);
});

test('the per-chain action memo never lets a malformed or look-alike action borrow an allowed one', () => {
  const engine = new PolicyEngine(policy);
  const c = healthy();
  const agent = c.links[c.links.length - 1]!.sub;
  assert.equal(engine.evaluateAction(act(c, ['ec2:DescribeInstances', 'ec2:DescribeVolumes'])).result, 'allow');
  const tries = [
    act(c, ['ec2:DescribeInstances\nec2:DescribeVolumes']),
    act(c, ['ec2:DescribeInstances', 'ec2:DescribeVolumes'], { atMs: Number.NaN }),
    act(c, ['ec2:DescribeVolumes'], { agent: `${agent}21:ec2:DescribeInstances` }),
    act(c, [7 as unknown as string]),
  ];
  for (const t of tries) assert.equal(engine.evaluateAction(t).result, 'deny', JSON.stringify(t.action));
  assert.equal(engine.evaluateAction(act(c, ['ec2:DescribeInstances', 'ec2:DescribeVolumes'])).result, 'allow');
});
