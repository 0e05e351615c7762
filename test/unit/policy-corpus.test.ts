/**
 * Runs the adversarial corpus (test/policy-corpus/cases.ts) under the shipped
 * policy: each case's verdict and reasons must be exactly as expected.
 * (test/integration/opa-corpus.test.ts runs the same cases through OPA.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateAction, evaluateChain } from '../../src/policy/engine.js';
import { buildCase, corpusKeys, expected, outcome, type CorpusKeys } from '../policy-corpus/build.js';
import { CASES } from '../policy-corpus/cases.js';
import { shippedPolicy } from '../support/policy-fixtures.js';

const policy = shippedPolicy();
let keys: CorpusKeys;
before(async () => (keys = await corpusKeys()));
after(() => keys.cleanup());

test('the corpus has at least 40 named attacks and unique names', () => {
  assert.ok(CASES.filter((c) => c.attack !== 'none').length >= 40);
  assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length);
});

describe('adversarial corpus', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      const { input, isAction } = await buildCase(c, keys);
      const d = isAction ? evaluateAction(policy, input as never) : evaluateChain(policy, input as never);
      assert.deepEqual(outcome(d), expected(c), `${c.attack}: ${JSON.stringify(d.reasons)}`);
    });
  }
});
