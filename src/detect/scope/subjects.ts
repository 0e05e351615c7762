/**
 * The subjects whose grants are judged, built from per-edge facts: each
 * delegation edge (delegator → delegatee), each agent (every edge into it)
 * and each agent type (every edge into its instances). An agent's grant is
 * used when the agent, or an agent it delegated to, uses it: the agent must
 * keep what it passes on, since a child's scope must lie within its parent's.
 * Pure.
 */
import { trustDomainOf } from '../../verify/spiffe.js';
import type { GrantedScope, UsedScope } from './usage.js';

export type ScopeLevel = 'agent' | 'agent_type' | 'edge';
export const SCOPE_LEVELS: readonly ScopeLevel[] = ['agent', 'agent_type', 'edge'];

/** One scope on one edge as the store has it: granted (first and last issue) or used (last use). */
export interface EdgeGrant { delegator: string; delegatee: string; scope: string; firstGrantedMs: number; lastGrantedMs: number }
export interface EdgeUse { delegator: string; delegatee: string; scope: string; lastUsedMs: number }

export interface ScopeSubject {
  level: ScopeLevel;
  /** The alert's subject: an agent ID, an agent type pattern (`spiffe://td/agent/name/*`) or `delegator -> delegatee`. */
  key: string;
  tenant: string;
  /** Agents the subject covers (the delegatee's instances), and the human when the edge starts at one. */
  agents: string[];
  human: string;
  granted: GrantedScope[];
  used: UsedScope[];
  /** Distinct agents (type) or delegators (agent, and an edge's agent): a subject made of one finer subject repeats it. */
  parts: number;
  /** One of its edges had a link recorded too recently for its uses to be stored yet: not judged this time. */
  unsettled: boolean;
}

const AGENT_SEGMENTS = new Set(['agent', 'agents']);

/**
 * The type of an agent: its SPIFFE ID without the instance,
 * `spiffe://td/agent/<name>/<instance…>` → `spiffe://td/agent/<name>/*`.
 * Any other ID is its own type (no instance to drop).
 */
export function agentTypeKey(agentId: string): string {
  const td = trustDomainOf(agentId);
  if (td === undefined) return agentId;
  const path = agentId.slice(`spiffe://${td}/`.length).split('/');
  if (path.length > 2 && AGENT_SEGMENTS.has(path[0] as string)) return `spiffe://${td}/${path[0]}/${path[1]}/*`;
  return agentId;
}

export const edgeKey = (delegator: string, delegatee: string) => `${delegator} -> ${delegatee}`;

interface Acc {
  level: ScopeLevel;
  key: string;
  tenant: string;
  agents: Set<string>;
  humans: Set<string>;
  parts: Set<string>;
  granted: Map<string, GrantedScope>;
  used: Map<string, UsedScope>;
  unsettled: boolean;
}

/** Folds per-edge grants and uses into the subjects of the requested levels; `recent`: edge keys (edgeKey) with a link recorded within the settle time. */
export function buildSubjects(grants: readonly EdgeGrant[], uses: readonly EdgeUse[], levels: readonly ScopeLevel[], recent: ReadonlySet<string> = new Set()): ScopeSubject[] {
  const subjects = new Map<string, Acc>();
  const keysOf = (delegator: string, delegatee: string): Array<{ level: ScopeLevel; key: string; part: string }> => {
    const out: Array<{ level: ScopeLevel; key: string; part: string }> = [];
    if (levels.includes('edge')) out.push({ level: 'edge', key: edgeKey(delegator, delegatee), part: delegator });
    if (levels.includes('agent')) out.push({ level: 'agent', key: delegatee, part: delegator });
    // An ID without an instance is its own type: judged as the agent only (the same subject twice would share an alert id).
    const type = agentTypeKey(delegatee);
    if (levels.includes('agent_type') && (type !== delegatee || !levels.includes('agent'))) out.push({ level: 'agent_type', key: type, part: delegatee });
    return out;
  };
  const accOf = (level: ScopeLevel, key: string, delegatee: string): Acc => {
    const id = `${level}\u0000${key}`;
    let a = subjects.get(id);
    if (!a) {
      a = { level, key, tenant: trustDomainOf(delegatee) ?? '', agents: new Set(), humans: new Set(), parts: new Set(), granted: new Map(), used: new Map(), unsettled: false };
      subjects.set(id, a);
    }
    return a;
  };
  for (const g of grants) {
    const fresh = recent.has(edgeKey(g.delegator, g.delegatee));
    for (const { level, key, part } of keysOf(g.delegator, g.delegatee)) {
      const a = accOf(level, key, g.delegatee);
      if (fresh) a.unsettled = true;
      a.agents.add(g.delegatee);
      if (trustDomainOf(g.delegator) === undefined) a.humans.add(g.delegator);
      a.parts.add(part);
      const prev = a.granted.get(g.scope);
      a.granted.set(g.scope, prev
        ? { scope: g.scope, firstGrantedMs: Math.min(prev.firstGrantedMs, g.firstGrantedMs), lastGrantedMs: Math.max(prev.lastGrantedMs, g.lastGrantedMs) }
        : { scope: g.scope, firstGrantedMs: g.firstGrantedMs, lastGrantedMs: g.lastGrantedMs });
    }
  }
  for (const u of uses) {
    for (const { level, key } of keysOf(u.delegator, u.delegatee)) {
      // Use without a grant on record (the grant predates the store, or failed) judges nothing.
      const a = subjects.get(`${level}\u0000${key}`);
      if (!a) continue;
      const prev = a.used.get(u.scope);
      if (!prev || prev.lastUsedMs < u.lastUsedMs) a.used.set(u.scope, { scope: u.scope, lastUsedMs: u.lastUsedMs });
    }
  }
  // An edge repeats its agent when it is the agent's only grant: its parts are the agent's delegators.
  const delegatorsOf = new Map<string, number>();
  for (const a of subjects.values()) if (a.level === 'agent') delegatorsOf.set(a.key, a.parts.size);
  return [...subjects.values()].map((a) => ({
    level: a.level,
    key: a.key,
    tenant: a.tenant,
    agents: [...a.agents].sort(),
    human: a.humans.size === 1 ? ([...a.humans][0] as string) : '',
    granted: [...a.granted.values()],
    used: [...a.used.values()],
    parts: a.level === 'edge' ? (delegatorsOf.get([...a.agents][0] as string) ?? 1) : a.parts.size,
    unsettled: a.unsettled,
  }));
}
