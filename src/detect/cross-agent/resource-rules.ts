/**
 * Cross-agent rules on one resource in one window: many distinct agents or
 * chains touching it (`resource.many_agents`), or tasks of different root
 * humans touching it (`resource.cross_task`). Pure: the streaming state and
 * the store query both summarise a window into a ResourceTouch and ask the
 * same rules, so both raise the same alert (same id, same trigger).
 *
 * Windows are tumbling, aligned to the epoch (window start = floor(ts / W) ×
 * W, by the span's start): every processor and evaluator puts an action in
 * the same window without agreeing on anything. A burst straddling two
 * windows is judged in each half.
 */
import type { AlertSignal } from '../alert.js';
import { patternCovers } from '../../verify/scope.js';
import type { CrossTaskConfig, ManyAgentsConfig } from './config.js';

/** What one window saw of one resource (verified actions only): distinct counts, and samples for the evidence. */
export interface ResourceTouch {
  tenant: string;
  resource: string;
  windowStartMs: number;
  agentCount: number;
  chainCount: number;
  humanCount: number;
  agents: string[];
  chains: string[];
  humans: string[];
  tasks: string[];
  /** A sample of the actions, for the evidence. */
  spanIds: string[];
  traceIds: string[];
  lastMs: number;
}

/** Most span ids, agents or tasks listed in one alert's evidence. */
export const EVIDENCE_LIMIT = 50;

/**
 * The tenant of an action: its agent's trust domain, read as the store query
 * reads it (`extract(agent_id, '^spiffe://([^/]+)/')`), so both paths derive
 * the same alert id.
 */
export function tenantOf(agentId: string): string {
  if (!agentId.startsWith('spiffe://')) return '';
  const end = agentId.indexOf('/', 9);
  return end > 9 ? agentId.slice(9, end) : '';
}

/** A stored span start (unix ns digits, or a DateTime64 text for out-of-range values) in ms, floored like toUnixTimestamp64Milli. */
export function tsMs(ts: string): number {
  if (ts.length === 19 && ts.charCodeAt(4) !== 45 /* '-': a date text */) return Number(ts.slice(0, -6));
  const ms = Date.parse(`${ts.slice(0, 10)}T${ts.slice(11, 23)}Z`);
  return Number.isFinite(ms) ? ms : 0;
}

export function windowStart(ms: number, windowMs: number): number {
  return Math.floor(ms / windowMs) * windowMs;
}

/** Exact resource or trailing-* prefix, as scopes match (schemas/delegation-token.md §5). */
export function ignored(resource: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => patternCovers(p, resource));
}

const listed = (xs: readonly string[]) => [...xs].sort().slice(0, EVIDENCE_LIMIT);
const eventKeyOf = (t: ResourceTouch) => `window:${t.windowStartMs}`;

function base(t: ResourceTouch): Omit<AlertSignal, 'kind' | 'severity' | 'summary' | 'evidence'> {
  return {
    tenant: t.tenant,
    subject: t.resource,
    windowStartMs: t.windowStartMs,
    // One trigger per resource and window: every processor and evaluation that sees it records the same one.
    eventKey: eventKeyOf(t),
    observedAtMs: t.lastMs,
    taskId: t.tasks.length === 1 ? (t.tasks[0] as string) : '',
    human: t.humanCount === 1 ? (t.humans[0] as string) : '',
    agents: listed(t.agents),
    chainHash: t.chains.length === 1 ? (t.chains[0] as string) : '',
    traceId: t.traceIds.length === 1 ? (t.traceIds[0] as string) : '',
  };
}

/** Cheap checks on counts alone, so the streaming path builds a touch only when a rule fires. */
export function meetsManyAgents(agents: number, chains: number, cfg: ManyAgentsConfig): boolean {
  return cfg.enabled && (agents >= cfg.minAgents || (cfg.minChains > 0 && chains >= cfg.minChains));
}
export function meetsCrossTask(humans: number, cfg: CrossTaskConfig): boolean {
  return cfg.enabled && humans >= cfg.minHumans;
}

export function manyAgentsSignal(t: ResourceTouch, cfg: ManyAgentsConfig): AlertSignal | undefined {
  if (!meetsManyAgents(t.agentCount, t.chainCount, cfg) || ignored(t.resource, cfg.ignoreResources)) return undefined;
  const minutes = cfg.windowMs / 60_000;
  return {
    ...base(t),
    kind: 'resource.many_agents',
    severity: cfg.severity,
    summary: `${t.resource} touched by ${t.agentCount} distinct agents in ${t.chainCount} chains within ${minutes} min (thresholds: ${cfg.minAgents} agents${cfg.minChains > 0 ? ` or ${cfg.minChains} chains` : ''})`,
    evidence: {
      spanIds: listed(t.spanIds),
      linkIds: [],
      facts: { agents: t.agentCount, chains: t.chainCount, tasks: listed(t.tasks), min_agents: cfg.minAgents, min_chains: cfg.minChains, window_ms: cfg.windowMs, window_start: new Date(t.windowStartMs).toISOString() },
    },
  };
}

export function crossTaskSignal(t: ResourceTouch, cfg: CrossTaskConfig): AlertSignal | undefined {
  if (!meetsCrossTask(t.humanCount, cfg) || ignored(t.resource, cfg.ignoreResources)) return undefined;
  const minutes = cfg.windowMs / 60_000;
  return {
    ...base(t),
    kind: 'resource.cross_task',
    severity: cfg.severity,
    summary: `${t.resource} touched within ${minutes} min by agents of ${t.humanCount} unrelated tasks (root humans ${listed(t.humans).join(', ')})`,
    evidence: {
      spanIds: listed(t.spanIds),
      linkIds: [],
      facts: { humans: listed(t.humans), tasks: listed(t.tasks), agents: t.agentCount, min_humans: cfg.minHumans, window_ms: cfg.windowMs, window_start: new Date(t.windowStartMs).toISOString() },
    },
  };
}
