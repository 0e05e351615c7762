import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTaskTree } from '../../src/serve/tree.js';
import { renderTaskTree } from '../../src/serve/render-tree.js';
import type { ActionView } from '../../src/store/queries.js';

const HUMAN = 'alice@co.example';
const P = 'spiffe://co.example/agent/planning/p-1';
const I = 'spiffe://co.example/agent/inventory/i-1';
const C = 'spiffe://co.example/agent/cost/c-1';

let n = 0;
function action(agent: string, path: string[], over: Partial<ActionView> = {}): ActionView {
  n++;
  return {
    trace_id: 't1', span_id: `s${n}`, parent_span_id: '', ts: `2026-03-27T14:${String(n % 60).padStart(2, '0')}:00.000000000Z`,
    end_ts: '', name: 'op', operation: 'execute_tool', agent_id: agent, agent_name: '', tool_name: 'tool',
    root_human: path.length ? HUMAN : '', root_issued_at: path.length ? '2026-03-27T14:00:00.000Z' : '1970-01-01T00:00:00.000Z',
    purpose: path.length ? 'quarterly infrastructure review' : '', delegator: '', chain_depth: path.length,
    chain_path: path, scopes_granted: [], scopes_used: [], resource: '', verdict: 'verified', reasons: [], reason_details: [], peer_id: '',
    ...over,
  };
}

test('agents nest by delegation path and counts add up', () => {
  const actions = [
    ...Array.from({ length: 3 }, () => action(I, [HUMAN, P, I])),
    ...Array.from({ length: 2 }, () => action(P, [HUMAN, P])),
    action(C, [HUMAN, P, C], { verdict: 'failed', reasons: ['scope.exceeded'], reason_details: ['used billing:write'] }),
  ];
  const tree = buildTaskTree('task-1', actions);
  assert.equal(tree.total, 6);
  assert.equal(tree.agentCount, 3);
  assert.equal(tree.verified, 5);
  assert.equal(tree.failed, 1);
  assert.deepEqual(tree.failuresByReason, { 'scope.exceeded': 1 });
  assert.equal(tree.rootHuman, HUMAN);
  assert.equal(tree.requestedAt, '2026-03-27T14:00:00.000Z');
  assert.equal(tree.agents.length, 1);
  const planning = tree.agents[0]!;
  assert.equal(planning.agentId, P);
  assert.equal(planning.actions, 2);
  assert.deepEqual(planning.delegates.map((d) => [d.agentId, d.actions, d.failed]).sort(), [[C, 1, 1], [I, 3, 0]]);
  assert.equal(planning.delegates.find((d) => d.agentId === C)?.delegatedBy, P);
});

test('actions nest under their parent span even when children arrive first', () => {
  const child = action(I, [HUMAN, P, I], { span_id: 'child', parent_span_id: 'parent' });
  const grandchild = action(I, [HUMAN, P, I], { span_id: 'grandchild', parent_span_id: 'child' });
  const parent = action(I, [HUMAN, P, I], { span_id: 'parent' });
  const tree = buildTaskTree('task-2', [grandchild, child, parent]);
  const inv = tree.agents[0]!.delegates[0]!;
  assert.equal(inv.actionTree.length, 1);
  assert.equal(inv.actionTree[0]!.spanId, 'parent');
  assert.equal(inv.actionTree[0]!.children[0]!.spanId, 'child');
  assert.equal(inv.actionTree[0]!.children[0]!.children[0]!.spanId, 'grandchild');
});

test('a span whose parent belongs to another agent starts that agent\'s own tree', () => {
  const delegation = action(P, [HUMAN, P], { span_id: 'invoke' });
  const work = action(I, [HUMAN, P, I], { span_id: 'work', parent_span_id: 'invoke' });
  const tree = buildTaskTree('task-3', [work, delegation]);
  assert.equal(tree.agents[0]!.actionTree[0]!.children.length, 0);
  assert.equal(tree.agents[0]!.delegates[0]!.actionTree[0]!.spanId, 'work');
});

test('actions without a usable chain are kept, unattributed, never dropped', () => {
  const tree = buildTaskTree('task-4', [
    action(I, [HUMAN, P, I]),
    action('spiffe://co.example/agent/rogue/r-1', [], { verdict: 'failed', reasons: ['chain.missing'] }),
  ]);
  assert.equal(tree.total, 2);
  assert.equal(tree.unattributed.length, 1);
  assert.equal(tree.unattributed[0]!.failed, 1);
  const text = renderTaskTree(tree);
  assert.match(text, /no verifiable delegation path/);
  assert.match(text, /chain.missing/);
});

test('an agent acting outside its chain is placed under the path it presented', () => {
  const tree = buildTaskTree('task-5', [action(C, [HUMAN, P, I], { verdict: 'failed', reasons: ['agent.mismatch'] })]);
  const inv = tree.agents[0]!.delegates[0]!;
  assert.equal(inv.agentId, I);
  assert.equal(inv.actions, 0);
  assert.equal(inv.delegates[0]!.agentId, C);
  assert.equal(inv.delegates[0]!.failed, 1);
});

test('the text view states totals and the human at the root', () => {
  const tree = buildTaskTree('task-12345', [action(P, [HUMAN, P]), action(I, [HUMAN, P, I]), action(I, [HUMAN, P, I])]);
  const text = renderTaskTree(tree);
  assert.match(text, /^Task ID: task-12345 \(quarterly infrastructure review\)/);
  assert.match(text, /\+-- planning: 1 action/);
  assert.match(text, /\|   \+-- inventory: 2 actions/);
  assert.match(text, /Total: 3 actions across 2 agents/);
  assert.match(text, /All traceable to: alice@co.example's request at 14:00 UTC on 2026-03-27/);
});

test('the time of the request comes from verified chains only', () => {
  const replayed = action(I, [HUMAN, P, I], { verdict: 'failed', reasons: ['time.expired'], root_issued_at: '2026-03-27T11:00:00.000Z', root_human: 'mallory@co.example' });
  const tree = buildTaskTree('task-6', [replayed, action(P, [HUMAN, P])]);
  assert.equal(tree.requestedAt, '2026-03-27T14:00:00.000Z');
  assert.equal(tree.rootHuman, HUMAN);
});
