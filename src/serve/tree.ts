import type { ActionView } from '../store/queries.js';
import { agentNameFromId } from '../verify/spiffe.js';
import type { ActionNode, AgentNode, TaskTree } from '../model/views.js';

export type { ActionNode, AgentNode, TaskTree } from '../model/views.js';

function newAgent(agentId: string, agentName: string, delegatedBy: string): AgentNode {
  return { agentId, agentName: agentName || agentNameFromId(agentId), delegatedBy, scopesGranted: [], actions: 0, verified: 0, failed: 0, firstTs: '', lastTs: '', actionTree: [], delegates: [] };
}

/**
 * Builds a task's tree from its actions (deduplicated, any order). Agents nest
 * by the delegation path in each action's chain; actions nest by parent span
 * within an agent. Spans arriving out of order (children first) land right
 * because nesting happens only after every action is read.
 */
export function buildTaskTree(taskId: string, actions: ActionView[]): TaskTree {
  const tree: TaskTree = {
    taskId, purpose: '', rootHuman: '', requestedAt: '', total: actions.length, verified: 0, failed: 0,
    agentCount: 0, actionsByAgent: {}, failuresByReason: {}, agents: [], unattributed: [],
  };
  const nodesByPath = new Map<string, AgentNode>();
  const unattributed = new Map<string, AgentNode>();
  // Owner per (presented path, agent): thousands of actions share a handful of
  // these, and actions of one chain share one path array (see Queries.taskActions).
  const ownerOf = new Map<string[], Map<string, AgentNode>>();
  const ownerByKey = new Map<string, Map<string, AgentNode>>();
  const actionNode = new Map<string, { node: ActionNode; owner: AgentNode; parent: string }>();
  let requestedMs = Infinity;
  let lastIssued = '';
  let sorted = true;
  let prevTs = '';

  for (const a of actions) {
    // The task's origin comes from verified chains; a failing one (say, a replayed old grant) says nothing about it.
    if (a.verdict === 'verified') {
      if (!tree.purpose && a.purpose) tree.purpose = a.purpose;
      if (!tree.rootHuman && a.root_human) tree.rootHuman = a.root_human;
      if (a.root_issued_at !== lastIssued) {
        lastIssued = a.root_issued_at;
        const issued = Date.parse(a.root_issued_at);
        const issuedMs = Number.isNaN(issued) ? Number(a.root_issued_at) : issued;
        if (issuedMs > 0 && issuedMs < requestedMs) requestedMs = issuedMs;
      }
    }
    if (a.ts < prevTs) sorted = false;
    prevTs = a.ts;
    if (a.verdict === 'verified') tree.verified++;
    else {
      tree.failed++;
      for (const r of a.reasons) tree.failuresByReason[r] = (tree.failuresByReason[r] ?? 0) + 1;
    }
    tree.actionsByAgent[a.agent_id] = (tree.actionsByAgent[a.agent_id] ?? 0) + 1;

    let byAgent = ownerOf.get(a.chain_path);
    if (!byAgent) {
      // Distinct arrays with equal contents (rows parsed separately) still share owners.
      const pathKey = a.chain_path.join('\u0000');
      byAgent = ownerByKey.get(pathKey);
      if (!byAgent) ownerByKey.set(pathKey, (byAgent = new Map()));
      ownerOf.set(a.chain_path, byAgent);
    }
    let owner = byAgent.get(a.agent_id);
    if (!owner) byAgent.set(a.agent_id, (owner = placeAgent(tree, nodesByPath, unattributed, a)));
    owner.actions++;
    if (a.verdict === 'verified') owner.verified++;
    else owner.failed++;
    if (!owner.firstTs || a.ts < owner.firstTs) owner.firstTs = a.ts;
    const end = a.end_ts || a.ts;
    if (!owner.lastTs || end > owner.lastTs) owner.lastTs = end;
    if (owner.scopesGranted.length === 0 && a.agent_id === owner.agentId) owner.scopesGranted = a.scopes_granted;

    actionNode.set(`${a.trace_id}/${a.span_id}`, {
      owner,
      parent: a.parent_span_id ? `${a.trace_id}/${a.parent_span_id}` : '',
      node: {
        traceId: a.trace_id, spanId: a.span_id, name: a.name, operation: a.operation, tool: a.tool_name, ts: a.ts,
        resource: a.resource, scopesUsed: a.scopes_used, verdict: a.verdict, reasons: a.reasons, details: a.reason_details, children: [],
      },
    });
  }

  for (const { node, owner, parent } of actionNode.values()) {
    const up = parent ? actionNode.get(parent) : undefined;
    if (up && up.owner === owner) up.node.children.push(node);
    else owner.actionTree.push(node);
  }
  tree.agentCount = Object.keys(tree.actionsByAgent).length;
  tree.requestedAt = Number.isFinite(requestedMs) ? new Date(requestedMs).toISOString() : '';
  tree.unattributed = [...unattributed.values()];
  // Input in time order (as the store returns it) already yields every list in
  // time order; only out-of-order input needs sorting.
  if (!sorted) {
    sortTree(tree.agents);
    sortTree(tree.unattributed);
  }
  return tree;
}

/** Finds or creates the agent node for an action along its delegation path. */
function placeAgent(tree: TaskTree, byPath: Map<string, AgentNode>, unattributed: Map<string, AgentNode>, a: ActionView): AgentNode {
  const path = a.chain_path.slice(1); // drop the human
  if (path.length === 0) {
    let n = unattributed.get(a.agent_id);
    if (!n) unattributed.set(a.agent_id, (n = newAgent(a.agent_id, a.agent_name, '')));
    return n;
  }
  if (a.agent_id && path[path.length - 1] !== a.agent_id) path.push(a.agent_id);
  let siblings = tree.agents;
  let key = '';
  let node: AgentNode | undefined;
  let delegatedBy = a.chain_path[0] ?? '';
  for (const id of path) {
    key += '\u0000' + id;
    node = byPath.get(key);
    if (!node) {
      node = newAgent(id, id === a.agent_id ? a.agent_name : '', delegatedBy);
      byPath.set(key, node);
      siblings.push(node);
    } else if (id === a.agent_id && a.agent_name && node.agentName === agentNameFromId(id)) {
      node.agentName = a.agent_name;
    }
    siblings = node.delegates;
    delegatedBy = id;
  }
  return node!;
}

function sortTree(nodes: AgentNode[]): void {
  nodes.sort((x, y) => (x.firstTs < y.firstTs ? -1 : x.firstTs > y.firstTs ? 1 : 0));
  for (const n of nodes) {
    sortActions(n.actionTree);
    sortTree(n.delegates);
  }
}

function sortActions(nodes: ActionNode[]): void {
  nodes.sort((x, y) => (x.ts < y.ts ? -1 : x.ts > y.ts ? 1 : 0));
  for (const n of nodes) sortActions(n.children);
}
