/**
 * The streaming side's memory of recent windows per resource: distinct
 * agents, chains, humans and tasks, bounded. In memory only: it can be
 * seeded from the store at start, and the windowed evaluation of the same
 * rules covers what one processor cannot see (another processor's share of a
 * consumer group's partitions). Pure.
 */
import { EVIDENCE_LIMIT, type ResourceTouch } from './resource-rules.js';

/** Bounds: a flood of distinct resources or agents must not grow memory without end. */
export interface WindowLimits {
  /** Resources tracked per window; beyond it new resources are left to the store evaluation. */
  maxResources: number;
  /** Distinct values kept per set (agents, chains…); thresholds are far below. */
  maxDistinct: number;
}

export const DEFAULT_LIMITS: WindowLimits = { maxResources: 50_000, maxDistinct: 1_000 };

interface Entry {
  /** The rule raised this window here: nothing more to count. */
  settled: boolean;
  tenant: string;
  resource: string;
  windowStartMs: number;
  agents: Set<string>;
  chains: Set<string>;
  humans: Set<string>;
  tasks: Set<string>;
  spanIds: string[];
  traceIds: Set<string>;
  lastMs: number;
}

export interface Touch {
  /** tenant + NUL + resource, computed once per action for every rule. */
  key: string;
  tenant: string;
  resource: string;
  atMs: number;
  agent: string;
  chain: string;
  human: string;
  task: string;
  spanId: string;
  traceId: string;
}

const addBounded = (s: Set<string>, v: string, max: number) => {
  if (v !== '' && s.size < max) s.add(v);
};

/** The sets a rule counts; the others are evidence only, kept to EVIDENCE_LIMIT. */
export type Counted = 'agents' | 'chains' | 'humans';

export class ResourceWindows {
  private readonly windows = new Map<number, Map<string, Entry>>();
  private readonly max: Record<Counted, number>;

  constructor(readonly windowMs: number, counted: readonly Counted[], private readonly limits: WindowLimits = DEFAULT_LIMITS) {
    const cap = (c: Counted) => (counted.includes(c) ? limits.maxDistinct : Math.min(EVIDENCE_LIMIT, limits.maxDistinct));
    this.max = { agents: cap('agents'), chains: cap('chains'), humans: cap('humans') };
  }

  /** Records one action; the entry it landed in, or undefined when over the bounds. */
  add(t: Touch): Entry | undefined {
    const start = Math.floor(t.atMs / this.windowMs) * this.windowMs;
    let byResource = this.windows.get(start);
    if (!byResource) {
      byResource = new Map();
      this.windows.set(start, byResource);
    }
    let e = byResource.get(t.key);
    if (!e) {
      if (byResource.size >= this.limits.maxResources) return undefined;
      e = { settled: false, tenant: t.tenant, resource: t.resource, windowStartMs: start, agents: new Set(), chains: new Set(), humans: new Set(), tasks: new Set(), spanIds: [], traceIds: new Set(), lastMs: t.atMs };
      byResource.set(t.key, e);
    }
    if (e.settled) return e;
    addBounded(e.agents, t.agent, this.max.agents);
    addBounded(e.chains, t.chain, this.max.chains);
    addBounded(e.humans, t.human, this.max.humans);
    addBounded(e.tasks, t.task, EVIDENCE_LIMIT);
    addBounded(e.traceIds, t.traceId, 2);
    if (e.spanIds.length < EVIDENCE_LIMIT) e.spanIds.push(t.spanId);
    if (t.atMs > e.lastMs) e.lastMs = t.atMs;
    return e;
  }

  /** Starts a window's entry from what the store already holds (at start). */
  seed(t: ResourceTouch): void {
    const list = (xs: string[]) => xs.slice(0, this.limits.maxDistinct);
    const key = resourceKey(t.tenant, t.resource);
    for (const agent of list(t.agents)) this.add({ key, tenant: t.tenant, resource: t.resource, atMs: t.windowStartMs, agent, chain: '', human: '', task: '', spanId: '', traceId: '' });
    const e = this.windows.get(t.windowStartMs)?.get(key);
    if (!e) return;
    for (const c of list(t.chains)) e.chains.add(c);
    for (const h of list(t.humans)) e.humans.add(h);
    for (const k of list(t.tasks)) e.tasks.add(k);
    e.spanIds = t.spanIds.slice(0, EVIDENCE_LIMIT);
    for (const tr of t.traceIds.slice(0, 2)) e.traceIds.add(tr);
    e.lastMs = Math.max(e.lastMs, t.lastMs);
  }

  /** Forgets windows that started before `ms`. */
  forgetBefore(ms: number): void {
    for (const start of this.windows.keys()) if (start + this.windowMs <= ms) this.windows.delete(start);
  }

  get size(): number {
    let n = 0;
    for (const w of this.windows.values()) n += w.size;
    return n;
  }
}

export const resourceKey = (tenant: string, resource: string) => `${tenant}\u0000${resource}`;

/** An entry as the rules read it. */
export function touchOf(e: Entry): ResourceTouch {
  const sorted = (s: Set<string>) => [...s].sort();
  return {
    tenant: e.tenant, resource: e.resource, windowStartMs: e.windowStartMs,
    agentCount: e.agents.size, chainCount: e.chains.size, humanCount: e.humans.size,
    agents: sorted(e.agents), chains: sorted(e.chains), humans: sorted(e.humans), tasks: sorted(e.tasks),
    spanIds: e.spanIds.filter((s) => s !== ''), traceIds: sorted(e.traceIds), lastMs: e.lastMs,
  };
}

export type { Entry as WindowEntry };
