import { test } from 'node:test';
import assert from 'node:assert/strict';
import { actionChain, buildGraph, scopeHistory, utcMs } from '../../src/serve/graph.js';
import type { ActionChainRow, LinkRow } from '../../src/store/graph-queries.js';
import { ScopeMatcher } from '../../src/verify/scope.js';

const A = 'spiffe://co.example/agent/planning/p-1';
const B = 'spiffe://co.example/agent/inventory/i-1';
const C = 'spiffe://co.example/agent/cost/c-1';

test('an edge is invalid when a link on it failed, unexpected only when actions crossed it and no link grants it', () => {
  const g = buildGraph(
    [
      { delegator: 'alice@co.example', delegatee: A, delegator_kind: 'human', links: 1, invalid: 0, tasks: 1 },
      { delegator: A, delegatee: B, delegator_kind: 'agent', links: 2, invalid: 1, tasks: 2 },
    ],
    [
      { delegator: A, delegatee: B, actions: 10, failed: 0, off_chain: 0, tasks: 3 },
      { delegator: B, delegatee: C, actions: 1, failed: 1, off_chain: 1, tasks: 1 },
      // Acted under a link the range does not show, but on its own chain: not unexpected.
      { delegator: A, delegatee: C, actions: 4, failed: 0, off_chain: 0, tasks: 1 },
    ],
  );
  const e = (from: string, to: string) => g.edges.find((x) => x.from === from && x.to === to)!;
  assert.deepEqual(e(A, B).marks, ['link.invalid']);
  assert.equal(e(A, B).tasks, 3);
  assert.deepEqual(e(B, C).marks, ['action.flagged', 'edge.unexpected']);
  assert.equal(e(A, C).unexpected, false);
  assert.deepEqual(e('alice@co.example', A).marks, []);
  assert.equal(g.nodes.find((n) => n.id === 'alice@co.example')!.kind, 'human');
  assert.deepEqual(g.nodes.find((n) => n.id === C), { id: C, name: 'cost', kind: 'agent', actions: 5, failed: 1 });
  // Sorted by (from, to): pages cut on that key.
  const keys = g.edges.map((x) => `${x.from}\u0000${x.to}`);
  assert.deepEqual(keys, [...keys].sort());
});

test('a first-seen-edge alert marks its edge unexpected (edge.new) even when links grant it', () => {
  const g = buildGraph(
    [{ delegator: A, delegatee: B, delegator_kind: 'agent', links: 1, invalid: 0, tasks: 1 }],
    [{ delegator: A, delegatee: B, actions: 2, failed: 0, off_chain: 0, tasks: 1 }, { delegator: A, delegatee: C, actions: 1, failed: 0, off_chain: 0, tasks: 1 }],
    new Set([`${A} -> ${B}`, `${B} -> ${A}`]),
  );
  const ab = g.edges.find((e) => e.to === B)!;
  assert.equal(ab.unexpected, true);
  assert.deepEqual(ab.marks, ['edge.new']);
  assert.equal(g.edges.find((e) => e.to === C)!.unexpected, false);
  assert.equal(g.edges.length, 2, 'an alert names no edge the graph does not have');
});

test('a scope bucket says what was granted and unused, and what was used without a grant, with the policy\'s implications', () => {
  const start = '2026-03-28 09:00:00.000';
  const [b] = scopeHistory(
    [{ start, actions: 3, failed: 1, granted: ['s3:GetObject', 's3:ListBucket', 'cloud:read'] }],
    [{ start, scope: 's3:GetObject', uses: 2 }, { start, scope: 's3:PutObject', uses: 1 }, { start, scope: 'ec2:DescribeInstances', uses: 4 }],
    new ScopeMatcher({ 'cloud:read': ['ec2:Describe*'] }),
  );
  assert.deepEqual(b!.used.map((u) => [u.scope, u.covered]), [['s3:GetObject', true], ['s3:PutObject', false], ['ec2:DescribeInstances', true]]);
  assert.deepEqual(b!.unused, ['s3:ListBucket'], 'cloud:read was used through its implication');
  assert.deepEqual(b!.ungranted, ['s3:PutObject']);
  // Without the implication, the same use is ungranted and cloud:read unused.
  const [plain] = scopeHistory([{ start, actions: 1, failed: 0, granted: ['cloud:read'] }], [{ start, scope: 'ec2:DescribeInstances', uses: 1 }]);
  assert.deepEqual(plain!.unused, ['cloud:read']);
  assert.deepEqual(plain!.ungranted, ['ec2:DescribeInstances']);
  const [empty] = scopeHistory([{ start: 'x', actions: 1, failed: 0, granted: ['a'] }], []);
  assert.deepEqual(empty!.used, []);
  assert.deepEqual(empty!.unused, ['a']);
});

test("a chain's links come root first with their status; a link past its expiry at the action says so; a missing one is unrecorded", () => {
  const action: ActionChainRow = {
    span_id: 's', trace_id: 't', ts: '2026-03-28 10:00:00.123456789', agent_id: B, chain_hash: 'c', chain_path: ['alice@co.example', A, B],
    verdict: 'failed', reasons: ['time.expired'], reason_details: ['link 1 expired'],
  };
  const row = (hash: string, iss: string, sub: string, exp: string, valid: boolean): LinkRow => ({
    link_hash: hash, jti: `j-${hash}`, task_id: 'task', delegator: iss, delegatee: sub, delegator_kind: iss === A ? 'agent' : 'human', scopes: ['x'],
    issued_at: '2026-03-28 08:00:00.000', not_before: '2026-03-28 08:00:00.000', expires_at: exp, depth: 1, valid, trust_domain: 'co.example', kid: 'k', alg: 'EdDSA',
  });
  const chain = actionChain('task', action, ['h0', 'h1', 'h2'], [
    row('h1', A, B, '2026-03-28T09:59:59.999Z', false),
    row('h0', 'alice@co.example', A, '2026-03-28 12:00:00.000', true),
  ]);
  assert.deepEqual(chain.links.map((l) => [l.position, l.linkHash, l.status, l.expiredAtAction]), [
    [0, 'h0', 'verified', false], [1, 'h1', 'invalid', true], [2, 'h2', 'unrecorded', false],
  ]);
  assert.deepEqual(chain.reasons, [{ code: 'time.expired', detail: 'link 1 expired' }]);
});

test('store times parse as UTC whatever their form', () => {
  const want = Date.UTC(2026, 2, 28, 10, 0, 0, 123);
  for (const t of ['2026-03-28 10:00:00.123', '2026-03-28 10:00:00.123456789', '2026-03-28T10:00:00.123Z', '2026-03-28T12:00:00.123+02:00']) assert.equal(utcMs(t), want, t);
  assert.ok(Number.isNaN(utcMs('not a time')));
});
