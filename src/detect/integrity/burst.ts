/**
 * Bursts of failed verification per agent and reason (detector 5a), over
 * tumbling windows of the actions' received_at: at least `minFailures`
 * distinct spans failing for one reason from one agent in one window raise
 * one alert for that (agent, reason, window); re-evaluations update it.
 * Policy reasons are left to the policy detector. The store read counts;
 * `burstSignals` judges (pure).
 */
import type { AlertSignal, Severity } from '../alert.js';
import type { DetectorContext, DetectorOutput, WindowedDetector } from '../detector.js';
import { tenantOfAgent } from '../tenant.js';
import type { IntegrityConfig } from './config.js';

/** Failures of one reason by one agent in one window, as counted by the store. */
export interface FailureCount {
  agent: string;
  reason: string;
  windowStartMs: number;
  failures: number;
  lastMs: number;
  spanIds: string[];
  tasks: string[];
  humans: string[];
}

/**
 * Reasons that say someone is forging, replaying or using what was taken
 * away (high); the rest (expired, malformed, clock skew) are as often
 * misconfiguration as attack (medium).
 */
const HOSTILE = /^(signature\.|revoked\.|agent\.|chain\.(parent_mismatch|principal_misaligned|task_mismatch|root_invalid)|scope\.escalated)/;

export function burstSeverity(reason: string): Severity {
  return HOSTILE.test(reason) ? 'high' : 'medium';
}

export function burstSignals(counts: readonly FailureCount[], cfg: IntegrityConfig['burst']): AlertSignal[] {
  const out: AlertSignal[] = [];
  for (const c of counts) {
    if (c.failures < cfg.minFailures || c.reason.startsWith('policy.')) continue;
    out.push({
      kind: 'integrity.verification_burst',
      severity: cfg.severity ?? burstSeverity(c.reason),
      tenant: tenantOfAgent(c.agent),
      subject: `${c.reason} from ${c.agent}`,
      windowStartMs: c.windowStartMs,
      // One trigger per window: re-evaluating the window updates its facts, not its count.
      eventKey: `window/${c.windowStartMs}`,
      observedAtMs: c.lastMs,
      taskId: c.tasks[0] ?? '',
      human: c.humans[0] ?? '',
      agents: c.agent === '' ? [] : [c.agent],
      chainHash: '',
      traceId: '',
      summary: `${c.failures} spans from ${c.agent || '(no agent)'} failed with ${c.reason} within ${cfg.windowSec} s`,
      evidence: {
        spanIds: c.spanIds,
        linkIds: [],
        facts: { reason: c.reason, failures: c.failures, threshold: cfg.minFailures, windowSec: cfg.windowSec, tasks: c.tasks },
      },
    });
  }
  return out;
}

/** Counts failed spans per agent, reason and window in [fromMs, toMs) of received_at. */
export async function countFailures(ctx: DetectorContext, fromMs: number, toMs: number, windowMs: number): Promise<FailureCount[]> {
  const rs = await ctx.client.query({
    query: `SELECT agent_id AS agent, reason,
                   intDiv(toUnixTimestamp64Milli(received_at), {w:Int64}) * {w:Int64} AS window_start,
                   uniqExact(trace_id, span_id) AS failures, toUnixTimestamp64Milli(max(received_at)) AS last_ms,
                   groupUniqArray(20)(span_id) AS span_ids, groupUniqArray(10)(task_id) AS tasks, groupUniqArray(10)(root_human) AS humans
            FROM ${ctx.database}.actions ARRAY JOIN reasons AS reason
            WHERE received_at >= fromUnixTimestamp64Milli({from:Int64}) AND received_at < fromUnixTimestamp64Milli({to:Int64})
              AND verdict = 'failed' AND NOT startsWith(reason, 'policy.')
            GROUP BY agent, reason, window_start
            HAVING failures >= {min:UInt32}
            ORDER BY failures DESC
            LIMIT 1000`,
    query_params: { from: Math.floor(fromMs), to: Math.floor(toMs), w: windowMs, min: 2 },
    format: 'JSONEachRow',
  });
  const rows = await rs.json<{ agent: string; reason: string; window_start: string; failures: string; last_ms: string; span_ids: string[]; tasks: string[]; humans: string[] }>();
  return rows.map((r) => ({
    agent: r.agent, reason: r.reason, windowStartMs: Number(r.window_start), failures: Number(r.failures), lastMs: Number(r.last_ms),
    spanIds: r.span_ids, tasks: r.tasks, humans: r.humans.filter((h) => h !== ''),
  }));
}

export class VerificationBurstDetector implements WindowedDetector {
  readonly name = 'integrity.verification_burst';
  readonly intervalMs: number;

  constructor(private readonly cfg: IntegrityConfig['burst']) {
    this.intervalMs = cfg.intervalSec * 1000;
  }

  /** The current window and the one before (rows stored late into it still count). */
  async evaluate(ctx: DetectorContext, nowMs: number): Promise<DetectorOutput> {
    const w = this.cfg.windowSec * 1000;
    const current = Math.floor(nowMs / w) * w;
    const counts = await countFailures(ctx, current - w, current + w, w);
    return { signals: burstSignals(counts, this.cfg) };
  }
}
