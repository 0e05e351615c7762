/**
 * The adversarial corpus through a real OPA server running
 * policies/chainsight.rego: every case gets the verdict and reasons the
 * built-in engine is held to (test/unit/policy-corpus.test.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OpaPolicyClient } from '../../src/policy/opa-client.js';
import { buildCase, corpusKeys, expected, outcome, type CorpusKeys } from '../policy-corpus/build.js';
import { CASES } from '../policy-corpus/cases.js';
import { opaBinary, startOpa, type OpaServer } from '../support/opa.js';
import { shippedPolicy } from '../support/policy-fixtures.js';

const bin = opaBinary();

describe('adversarial corpus through OPA', { skip: bin.path ? false : `no OPA binary: ${bin.why}` }, () => {
  let opa: OpaServer;
  let client: OpaPolicyClient;
  let keys: CorpusKeys;
  before(async () => {
    keys = await corpusKeys();
    opa = await startOpa(bin.path as string);
    client = new OpaPolicyClient({ url: opa.url, ttlMs: 0 });
    await client.putPolicy(shippedPolicy());
  });
  after(async () => {
    await opa?.stop();
    await keys?.cleanup();
  });
  for (const c of CASES) {
    test(c.name, async () => {
      const { input, isAction } = await buildCase(c, keys);
      const d = isAction ? await client.evaluateAction(input as never) : await client.evaluateChain(input as never);
      assert.deepEqual(outcome(d), expected(c), c.attack);
    });
  }
});
