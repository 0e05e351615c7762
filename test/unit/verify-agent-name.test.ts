/**
 * The name an agent is shown under (schemas/span-attributes.md,
 * `gen_ai.agent.name`): the attribute when the agent sends it, else a name
 * read from its SPIFFE ID.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTaskTree } from '../../src/serve/tree.js';
import { renderTaskTree } from '../../src/serve/render-tree.js';
import type { ActionView } from '../../src/store/queries.js';
import { agentNameFromId } from '../../src/verify/spiffe.js';

test('agentNameFromId: the segment after agent/, else the last segment', () => {
  const cases: Array<[string, string]> = [
    ['spiffe://co.com/agent/planner', 'planner'],
    ['spiffe://co.com/agents/planner', 'planner'],
    ['spiffe://co.com/agent/planning/instance-abc123', 'planning'],
    ['spiffe://co.com/ns/prod/sa/planner', 'planner'],
    ['spiffe://co.com/planner', 'planner'],
    ['spiffe://co.com/agent', 'agent'],
    ['spiffe://co.com/workers/agent', 'agent'],
    // Not a workload SPIFFE ID: shown as sent, never guessed at.
    ['asst_5j66UpCpwteGg4YSxUnt7lPY', 'asst_5j66UpCpwteGg4YSxUnt7lPY'],
    ['spiffe://co.com/agent/../x', 'spiffe://co.com/agent/../x'],
    ['spiffe://co.com/', 'spiffe://co.com/'],
    ['', ''],
  ];
  for (const [id, name] of cases) assert.equal(agentNameFromId(id), name, id);
});

const HUMAN = 'alice@co.com';
const P = 'spiffe://co.com/agent/planner';
const S = 'spiffe://co.com/agent/scanner';
let n = 0;
function action(agent: string, agentName: string, path: string[]): ActionView {
  n++;
  return {
    trace_id: 't1', span_id: `s${n}`, parent_span_id: '', ts: `2026-03-27T14:0${n % 10}:00.000000000Z`, end_ts: '', name: 'op',
    operation: 'execute_tool', agent_id: agent, agent_name: agentName, tool_name: 'tool', root_human: HUMAN,
    root_issued_at: '2026-03-27T14:00:00.000Z', purpose: '', delegator: '', chain_depth: path.length - 1, chain_path: path,
    scopes_granted: [], scopes_used: [], resource: '', verdict: 'verified', reasons: [], reason_details: [], peer_id: '',
  };
}

test('the tree names spiffe://<td>/agent/<name> agents by <name>, never "agent"', () => {
  // The planner sends no spans of its own: only the chain names it.
  const tree = buildTaskTree('t', [action(S, '', [HUMAN, P, S])]);
  const planner = tree.agents[0]!;
  assert.equal(planner.agentName, 'planner');
  assert.equal(planner.delegates[0]!.agentName, 'scanner');
  const text = renderTaskTree(tree);
  assert.match(text, /\+-- planner: 0 actions/);
  assert.match(text, /\+-- scanner: 1 action/);
  assert.doesNotMatch(text, /\+-- agent:/);
});

test('gen_ai.agent.name wins over the name read from the ID, whichever span brings it', () => {
  const tree = buildTaskTree('t', [action(S, '', [HUMAN, P, S]), action(P, 'Planning Agent', [HUMAN, P])]);
  assert.equal(tree.agents[0]!.agentName, 'Planning Agent');
  assert.equal(tree.agents[0]!.delegates[0]!.agentName, 'scanner');
});
