import type { ActionNode, AgentNode, TaskTree } from './types';

/** One line of the task view's tree: an agent (with its counts) or one of its actions. */
export type TreeRow =
  | { kind: 'agent'; key: string; depth: number; agent: AgentNode; unattributed: boolean }
  | { kind: 'action'; key: string; depth: number; action: ActionNode; agentId: string };

/**
 * The tree as flat rows, in the order the seed draws it: each agent, then its
 * actions (nested by parent span), then the agents it delegated to. Agents in
 * `collapsed` (by key) hide everything below them. Flat rows are what the
 * virtualised list renders: only those on screen become DOM.
 */
export function flattenTree(tree: TaskTree, collapsed: ReadonlySet<string>): TreeRow[] {
  const rows: TreeRow[] = [];
  const actions = (list: ActionNode[], depth: number, agentId: string) => {
    for (const a of list) {
      rows.push({ kind: 'action', key: `${a.traceId}/${a.spanId}`, depth, action: a, agentId });
      if (a.children.length) actions(a.children, depth + 1, agentId);
    }
  };
  const agents = (list: AgentNode[], depth: number, parentKey: string, unattributed: boolean) => {
    for (const ag of list) {
      const key = `${parentKey}/${ag.agentId}`;
      rows.push({ kind: 'agent', key, depth, agent: ag, unattributed });
      if (collapsed.has(key)) continue;
      actions(ag.actionTree, depth + 1, ag.agentId);
      agents(ag.delegates, depth + 1, key, unattributed);
    }
  };
  agents(tree.agents, 0, '', false);
  agents(tree.unattributed, 0, '~', true);
  return rows;
}

/** Every agent of the tree with its depth, for the timeline. */
export function agentLanes(tree: TaskTree): Array<{ agent: AgentNode; depth: number; flagged: ActionNode[] }> {
  const out: Array<{ agent: AgentNode; depth: number; flagged: ActionNode[] }> = [];
  const flaggedOf = (list: ActionNode[], acc: ActionNode[]) => {
    for (const a of list) {
      if (a.verdict !== 'verified') acc.push(a);
      flaggedOf(a.children, acc);
    }
    return acc;
  };
  const walk = (list: AgentNode[], depth: number) => {
    for (const ag of list) {
      out.push({ agent: ag, depth, flagged: flaggedOf(ag.actionTree, []) });
      walk(ag.delegates, depth + 1);
    }
  };
  walk(tree.agents, 0);
  walk(tree.unattributed, 0);
  return out;
}
