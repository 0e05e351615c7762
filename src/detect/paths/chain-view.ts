/**
 * What detection reads of a delegation chain: the agents from the human down,
 * their types and trust domains, and the chain's tenant (the trust domain of
 * the agent the human delegated to: the organisation whose task it is). Pure.
 */
import { agentTypeOf, type AgentTyping } from './agent-type.js';

export interface ChainView {
  tenant: string;
  human: string;
  /** Delegatees from the root link down (chain_path without the human). */
  agents: string[];
  types: string[];
  domains: string[];
  /** Number of links, the human's included (actions.chain_depth). */
  depth: number;
}

/** The view of `chain_path` ([human, agent, …]); undefined when it names no agent. */
export function viewChain(path: readonly string[], typing: AgentTyping): ChainView | undefined {
  if (path.length < 2) return undefined;
  const agents = path.slice(1);
  const types: string[] = [];
  const domains: string[] = [];
  for (const a of agents) {
    const t = agentTypeOf(a, typing);
    types.push(t.type);
    domains.push(t.domain);
  }
  return { tenant: domains[0] as string, human: path[0] as string, agents, types, domains, depth: agents.length };
}

/** The path shape an analyst reads: agent types from the human down. */
export function pathShape(types: readonly string[]): string {
  return ['human', ...types].join(' > ');
}

/** An action's start in ms from its DateTime64(9) text (19-digit ns, or a date-time), else `fallback`. */
export function actionTimeMs(ts: string, fallback: number): number {
  if (/^\d{19}$/.test(ts)) return Number(ts.slice(0, 13));
  const ms = Date.parse(ts.replace(' ', 'T') + 'Z');
  return Number.isFinite(ms) ? ms : fallback;
}
