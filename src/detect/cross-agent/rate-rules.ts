/**
 * `agent.rate_spike`: an agent acting far above its own usual rate. Pure.
 *
 * The usual rate is the 95th percentile of the agent's per-window action
 * counts over the baseline period, counting only windows in which it acted:
 * agents work in bursts (a task arrives, they act, they idle), so a mean over
 * idle time would call every task a spike, while the p95 of busy windows is
 * the busiest it normally gets. A window is a spike when its count exceeds
 * `factor` × that p95 and reaches the absolute `floor` (1 → 6 actions is not
 * worth an analyst's time). An agent with fewer than `min_history` busy
 * windows has no usual rate yet and is not judged: its novelty is the
 * first-seen detectors' business.
 */
import type { AlertSignal } from '../alert.js';
import { tenantOf } from './resource-rules.js';
import type { RateSpikeConfig } from './config.js';

export interface AgentWindowCount {
  agent: string;
  windowStartMs: number;
  count: number;
  lastMs: number;
  spanIds: string[];
}

export interface AgentBaseline {
  /** p95 of its per-window counts over busy windows. */
  p95: number;
  busyWindows: number;
}

export function rateSpikeSignal(c: AgentWindowCount, baseline: AgentBaseline | undefined, cfg: RateSpikeConfig): AlertSignal | undefined {
  if (!cfg.enabled || c.count < cfg.floor || baseline === undefined || baseline.busyWindows < cfg.minHistory) return undefined;
  if (c.count <= cfg.factor * baseline.p95) return undefined;
  const minutes = cfg.windowMs / 60_000;
  const days = Math.round((cfg.baselineMs / 86_400_000) * 100) / 100;
  const ratio = baseline.p95 > 0 ? Math.round((c.count / baseline.p95) * 10) / 10 : Infinity;
  return {
    kind: 'agent.rate_spike',
    severity: cfg.severity,
    tenant: tenantOf(c.agent),
    subject: c.agent,
    windowStartMs: c.windowStartMs,
    eventKey: `window:${c.windowStartMs}`,
    observedAtMs: c.lastMs,
    taskId: '',
    human: '',
    agents: [c.agent],
    chainHash: '',
    traceId: '',
    summary: `${c.agent}: ${c.count} actions in ${minutes} min, ${ratio}× its usual busiest (p95 ${baseline.p95} per ${minutes} min over ${baseline.busyWindows} busy windows in ${days} days)`,
    evidence: {
      spanIds: [...c.spanIds].sort(),
      linkIds: [],
      facts: { actions: c.count, baseline_p95: baseline.p95, busy_windows: baseline.busyWindows, factor: cfg.factor, floor: cfg.floor, window_ms: cfg.windowMs, window_start: new Date(c.windowStartMs).toISOString() },
    },
  };
}
