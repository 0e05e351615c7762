import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ScopeMatcher, covers, isSubset, patternCovers } from '../../src/verify/scope.js';

const IMPLICATIONS = {
  'infrastructure:review': ['cloud:read', 'reports:write'],
  'cloud:read': ['ec2:Describe*', 's3:List*'],
};

test('equal scopes cover each other', () => {
  assert.equal(covers('cloud:read', 'cloud:read'), true);
  assert.equal(covers('cloud:read', 'cloud:write'), false);
});

test('* covers everything, including patterns', () => {
  assert.equal(covers('*', 'ec2:DescribeInstances'), true);
  assert.equal(covers('*', 'ec2:*'), true);
  assert.equal(covers('ec2:*', '*'), false);
});

test('a trailing-* pattern covers narrower scopes and patterns, never broader ones', () => {
  assert.equal(covers('ec2:*', 'ec2:Describe*'), true);
  assert.equal(covers('ec2:*', 'ec2:DescribeInstances'), true);
  assert.equal(covers('ec2:Describe*', 'ec2:DescribeInstances'), true);
  assert.equal(covers('ec2:Describe*', 'ec2:*'), false);
  assert.equal(covers('ec2:Describe*', 'ec2:RunInstances'), false);
  assert.equal(covers('ec2:*', 's3:ListBuckets'), false);
  // A * inside a scope is not a wildcard: only a trailing one is.
  assert.equal(covers('ec2:Describe', 'ec2:Describe*'), false);
});

test('implications apply transitively', () => {
  assert.equal(covers('infrastructure:review', 'cloud:read', IMPLICATIONS), true);
  assert.equal(covers('infrastructure:review', 'ec2:DescribeInstances', IMPLICATIONS), true);
  assert.equal(covers('infrastructure:review', 's3:ListBuckets', IMPLICATIONS), true);
  assert.equal(covers('infrastructure:review', 'ec2:RunInstances', IMPLICATIONS), false);
  assert.equal(covers('cloud:read', 'reports:write', IMPLICATIONS), false);
  assert.equal(covers('cloud:read', 'infrastructure:review', IMPLICATIONS), false);
});

test('a pattern grants what the implication keys it covers imply', () => {
  assert.equal(covers('cloud:*', 'ec2:DescribeInstances', IMPLICATIONS), true);
  assert.equal(covers('cloud:*', 'ec2:RunInstances', IMPLICATIONS), false);
});

test('implication cycles terminate', () => {
  const m = new ScopeMatcher({ a: ['b'], b: ['c'], c: ['a', 'd*'] });
  assert.deepEqual([...m.closure('a')].sort(), ['a', 'b', 'c', 'd*']);
  assert.equal(m.covers('b', 'dx'), true);
  assert.equal(m.covers('d1', 'a'), false);
});

test('isSubset: every child scope covered by some parent scope', () => {
  assert.equal(isSubset(['cloud:read'], ['infrastructure:review'], IMPLICATIONS), true);
  assert.equal(isSubset(['cloud:read', 'cloud:write'], ['infrastructure:review'], IMPLICATIONS), false);
  assert.equal(isSubset([], ['x']), true);
  assert.equal(isSubset(['x'], []), false);
  assert.deepEqual(new ScopeMatcher().uncovered(['a', 'b*', 'c'], ['a', 'b*']), ['c']);
});

// --- properties ---------------------------------------------------------------

const segment = fc.constantFrom('ec2', 's3', 'Describe', 'List', 'Run', ':', 'a', 'b');
const plain = fc.array(segment, { minLength: 1, maxLength: 4 }).map((p) => p.join(''));
const scope = fc.oneof(plain, plain.map((s) => s + '*'), fc.constant('*'), fc.array(segment, { maxLength: 3 }).map((p) => p.join('') + '*'));
const implications = fc.dictionary(plain, fc.array(scope, { maxLength: 3 }), { maxKeys: 4 });

test('property: covers is reflexive', () => {
  fc.assert(fc.property(scope, implications, (s, imp) => new ScopeMatcher(imp).covers(s, s)));
});

test('property: covers is transitive (patterns and implications)', () => {
  fc.assert(
    fc.property(scope, scope, scope, implications, (a, b, c, imp) => {
      const m = new ScopeMatcher(imp);
      fc.pre(m.covers(a, b) && m.covers(b, c));
      return m.covers(a, c);
    }),
    { numRuns: 2000 },
  );
});

test('property: wildcard monotone — widening the granted pattern never loses coverage', () => {
  fc.assert(
    fc.property(plain, fc.nat({ max: 6 }), scope, (g, cut, w) => {
      const pattern = g + '*';
      const wider = g.slice(0, Math.max(0, g.length - cut)) + '*';
      // g* ⊑ wider, so whatever g* covers the wider pattern covers too.
      if (patternCovers(pattern, w)) return patternCovers(wider, w);
      return true;
    }),
  );
});

test('property: adding implications never removes coverage', () => {
  fc.assert(
    fc.property(scope, scope, implications, implications, (g, w, imp1, imp2) => {
      const small = new ScopeMatcher(imp1);
      const merged: Record<string, string[]> = { ...imp1 };
      for (const [k, v] of Object.entries(imp2)) merged[k] = [...(merged[k] ?? []), ...v];
      return !small.covers(g, w) || new ScopeMatcher(merged).covers(g, w);
    }),
  );
});

test('property: isSubset is reflexive and a subset of a subset is a subset', () => {
  fc.assert(
    fc.property(fc.array(scope, { maxLength: 4 }), fc.array(scope, { maxLength: 4 }), fc.array(scope, { maxLength: 4 }), implications, (a, b, c, imp) => {
      const m = new ScopeMatcher(imp);
      if (!m.isSubset(a, a)) return false;
      if (m.isSubset(a, b) && m.isSubset(b, c)) return m.isSubset(a, c);
      return true;
    }),
  );
});
