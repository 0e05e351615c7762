/**
 * The OPA engine option against a real OPA server: decisions are cached for
 * the configured TTL and dropped when the policy is replaced; an OPA that
 * does not answer, or answers without a decision, yields a deny.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OpaPolicyClient, decisionFromOpa } from '../../src/policy/opa-client.js';
import { parsePolicy } from '../../src/policy/loader.js';
import { opaBinary, startOpa, type OpaServer } from '../support/opa.js';
import { act, healthy, shippedPolicy } from '../support/policy-fixtures.js';
import { readFileSync } from 'node:fs';

const bin = opaBinary();
const input = act(healthy(), ['ec2:DescribeInstances']);

describe('OPA engine option', { skip: bin.path ? false : `no OPA binary: ${bin.why}` }, () => {
  let opa: OpaServer;
  before(async () => (opa = await startOpa(bin.path as string)));
  after(async () => opa?.stop());

  test('decisions are reused within the TTL, asked again after it, and dropped on a policy change', async () => {
    const client = new OpaPolicyClient({ url: opa.url, ttlMs: 300 });
    await client.putPolicy(shippedPolicy());
    assert.equal((await client.evaluateAction(input)).result, 'allow');
    assert.equal((await client.evaluateAction(input)).result, 'allow');
    assert.deepEqual({ requests: client.stats.requests, hits: client.stats.hits }, { requests: 1, hits: 1 });
    await new Promise((r) => setTimeout(r, 400));
    await client.evaluateAction(input);
    assert.equal(client.stats.requests, 2);
    const strict = parsePolicy(readFileSync(new URL('../../policies/default.yaml', import.meta.url), 'utf8').replace('max: 5', 'max: 2'));
    await client.putPolicy(strict);
    const d = await client.evaluateAction(input);
    assert.equal(d.result, 'deny');
    assert.equal(d.revision, strict.data.revision);
    assert.deepEqual(d.reasons.map((r) => `${r.code}@${r.link}`), ['policy.depth.global@2']);
  });

  test('an OPA without the policy data denies', async () => {
    const client = new OpaPolicyClient({ url: opa.url, ttlMs: 0, dataPath: 'elsewhere/config', path: 'chainsight/policy/decision' });
    await fetch(`${opa.url}/v1/data/chainsight/config`, { method: 'DELETE' });
    const d = await client.evaluateAction(input);
    assert.equal(d.result, 'deny');
  });
});

test('an unreachable OPA yields engine.unavailable, never an allow', async () => {
  const client = new OpaPolicyClient({ url: 'http://127.0.0.1:9', ttlMs: 0, timeoutMs: 500 });
  const d = await client.evaluateAction(input);
  assert.equal(d.result, 'deny');
  assert.deepEqual(d.reasons.map((r) => r.code), ['policy.engine.unavailable']);
  assert.equal(client.stats.failures, 1);
});

test('answers that are not decisions are refused', () => {
  assert.equal(decisionFromOpa({}), undefined);
  assert.equal(decisionFromOpa({ result: { result: 'allow', rules: [], violations: [{ rule: 'x', link: 0, msg: '' }] } }), undefined);
  assert.equal(decisionFromOpa({ result: { result: 'maybe', rules: [], violations: [] } }), undefined);
  assert.equal(decisionFromOpa({ result: { result: 'deny', rules: ['r'], violations: [{ rule: 'r', link: -1, msg: 'm' }] } })?.reasons[0]?.link, undefined);
});
