import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentLanes, flattenTree } from '../../console/src/tree-rows.js';
import type { ActionNode, AgentNode, TaskTree } from '../../console/src/types.js';

const action = (spanId: string, verdict = 'verified', children: ActionNode[] = []): ActionNode => ({
  traceId: 't', spanId, name: spanId, operation: 'execute_tool', tool: '', ts: '2026-03-28 09:00:00', resource: '', scopesUsed: [],
  verdict, reasons: verdict === 'verified' ? [] : ['scope.exceeded'], details: [], children,
});
const agentNode = (agentId: string, actions: ActionNode[], delegates: AgentNode[] = []): AgentNode => ({
  agentId, agentName: agentId, delegatedBy: '', scopesGranted: [], actions: actions.length, verified: 0, failed: 0,
  firstTs: '', lastTs: '', actionTree: actions, delegates,
});
const tree: TaskTree = {
  taskId: 'task', purpose: '', rootHuman: 'alice', requestedAt: '', total: 5, verified: 4, failed: 1, agentCount: 3,
  actionsByAgent: {}, failuresByReason: {},
  agents: [agentNode('planner', [action('p1', 'verified', [action('p1a')])], [agentNode('worker', [action('w1', 'failed')])])],
  unattributed: [agentNode('rogue', [action('r1')])],
};

test('the tree flattens as the seed draws it: an agent, its actions nested by parent span, then its delegates', () => {
  const rows = flattenTree(tree, new Set());
  assert.deepEqual(rows.map((r) => `${r.depth}:${r.kind === 'agent' ? r.agent.agentId : r.action.spanId}`), [
    '0:planner', '1:p1', '2:p1a', '1:worker', '2:w1', '0:rogue', '1:r1',
  ]);
  assert.equal(rows.filter((r) => r.kind === 'agent' && r.unattributed).length, 1);
});

test('a collapsed agent hides its actions and its delegates, and only those', () => {
  const rows = flattenTree(tree, new Set(['/planner']));
  assert.deepEqual(rows.map((r) => (r.kind === 'agent' ? r.agent.agentId : r.action.spanId)), ['planner', 'rogue', 'r1']);
  const inner = flattenTree(tree, new Set(['/planner/worker']));
  assert.deepEqual(inner.map((r) => (r.kind === 'agent' ? r.agent.agentId : r.action.spanId)), ['planner', 'p1', 'p1a', 'worker', 'rogue', 'r1']);
});

test('timeline lanes list every agent with its depth and its flagged actions', () => {
  assert.deepEqual(agentLanes(tree).map((l) => [l.agent.agentId, l.depth, l.flagged.map((a) => a.spanId)]), [
    ['planner', 0, []], ['worker', 1, ['w1']], ['rogue', 0, []],
  ]);
});
