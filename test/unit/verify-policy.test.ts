import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolicyError, defaultPolicy, policyFromJson } from '../../src/verify/policy.js';

test('defaults', () => {
  const p = defaultPolicy();
  assert.equal(p.maxDepth, 5);
  assert.equal(p.maxLifetimeSec, 14400);
  assert.equal(p.clockSkewSec, 60);
  assert.equal(p.maxTokenBytes, 4096);
  assert.deepEqual(p.algorithms, ['EdDSA', 'ES256', 'ES384', 'PS256', 'RS256']);
  assert.deepEqual(p.implications, {});
});

test('an empty object gives the defaults; given knobs override them', () => {
  assert.deepEqual(policyFromJson({}), defaultPolicy());
  const p = policyFromJson({ maxDepth: 3, algorithms: ['EdDSA', 'EdDSA'], implications: { 'cloud:read': ['ec2:Describe*'] } });
  assert.equal(p.maxDepth, 3);
  assert.deepEqual(p.algorithms, ['EdDSA']);
  assert.deepEqual(p.implications, { 'cloud:read': ['ec2:Describe*'] });
  assert.equal(p.clockSkewSec, 60);
});

test('errors name the key and what is wrong', () => {
  const cases: [unknown, RegExp][] = [
    [null, /must be a JSON object/],
    [[], /must be a JSON object/],
    [{ maxdepth: 3 }, /unknown key "maxdepth"/],
    [{ maxDepth: 0 }, /policy.maxDepth must be an integer from 1 to 64, got 0/],
    [{ maxDepth: 2.5 }, /policy.maxDepth must be an integer/],
    [{ maxLifetimeSec: '4h' }, /policy.maxLifetimeSec must be an integer/],
    [{ clockSkewSec: -1 }, /policy.clockSkewSec/],
    [{ maxTokenBytes: 10 }, /policy.maxTokenBytes must be an integer from 256/],
    [{ algorithms: [] }, /policy.algorithms must be a non-empty array/],
    [{ algorithms: ['none'] }, /"none" is not allowed/],
    [{ algorithms: ['HS256'] }, /"HS256" is not allowed.*never accepted/],
    [{ implications: ['a'] }, /policy.implications must be an object/],
    [{ implications: { a: 'b' } }, /policy.implications\["a"\] must be an array/],
    [{ implications: { '': ['b'] } }, /empty scope as key/],
  ];
  for (const [input, re] of cases) {
    assert.throws(() => policyFromJson(input), (e: unknown) => e instanceof PolicyError && re.test(e.message), `for ${JSON.stringify(input)}`);
  }
});
