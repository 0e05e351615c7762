/**
 * Decision-log events in OPA's shape, and the proposed policy_decisions
 * table: created in the real embedded store (chdb), a row inserted, and
 * "under which rule was this allowed" answered with query parameters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decisionLogEvent, decisionRow } from '../../src/policy/decision-log.js';
import { evaluateAction } from '../../src/policy/engine.js';
import { act, healthy, shippedPolicy } from '../support/policy-fixtures.js';
import { openTestStore } from '../support/store.js';

const policy = shippedPolicy();
const input = act(healthy(), ['ec2:DescribeInstances']);
const decision = evaluateAction(policy, input);

test('an event carries decision_id, path, input, result, timestamp and the bundle revision', () => {
  const at = { atMs: Date.UTC(2026, 10, 29, 14, 0, 0, 123), atNs: `${Date.UTC(2026, 10, 29, 14, 0, 0, 123)}000456` };
  const e = decisionLogEvent(decision, input, { ...at, labels: { task_id: 't1' } });
  assert.match(e.decision_id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(e.path, 'chainsight/policy/decision');
  assert.equal(e.timestamp, '2026-11-29T14:00:00.123000456Z');
  assert.deepEqual(e.bundles, { chainsight: { revision: policy.data.revision } });
  assert.deepEqual(e.labels, { app: 'chainsight', policy_version: '2026-11-29.1', task_id: 't1' });
  assert.equal(e.result.result, 'allow');
  assert.deepEqual(e.input, input);
  // Same decision, same time: same id (a re-delivered span logs once); another time: another id.
  assert.equal(decisionLogEvent(decision, input, at).decision_id, e.decision_id);
  assert.equal(decisionLogEvent(decision, input, { atMs: at.atMs }).timestamp, '2026-11-29T14:00:00.123000000Z');
  assert.notEqual(decisionLogEvent(decision, input, { atMs: 1 }).decision_id, e.decision_id);
});

test('the proposed table takes decision rows and answers which rules allowed an action', async () => {
  const store = await openTestStore();
  try {
    const db = store.config.database;
    // The table is migration 005's, applied by openTestStore.
    const denied = evaluateAction(policy, act(healthy(), ['iam:CreateAccessKey']));
    const rows = [
      decisionRow(decisionLogEvent(decision, input, { atMs: 1_790_000_060_000 }), { taskId: 't1', traceId: 'a'.repeat(32), spanId: '1'.repeat(16) }),
      decisionRow(decisionLogEvent(denied, input, { atMs: 1_790_000_061_000 }), { taskId: 't1', traceId: 'a'.repeat(32), spanId: '2'.repeat(16) }),
    ];
    await store.writer.insert({ table: `${db}.policy_decisions`, values: rows, format: 'JSONEachRow' });
    const rs = await store.reader.query({
      query: `SELECT span_id, result, rules, reason_codes, reason_links FROM ${db}.policy_decisions WHERE task_id = {task:String} ORDER BY span_id`,
      query_params: { task: 't1' },
      format: 'JSONEachRow',
    });
    const got = (await rs.json()) as Array<{ span_id: string; result: string; rules: string[]; reason_codes: string[]; reason_links: number[] }>;
    assert.equal(got.length, 2);
    assert.equal(got[0]!.result, 'allow');
    assert.deepEqual(got[0]!.rules, decision.rules);
    assert.deepEqual(got[1]!.reason_codes, ['policy.scope.diminishment']);
    assert.deepEqual(got[1]!.reason_links, [-1]);
  } finally {
    await store.close();
  }
});
