/**
 * Row shapes of the alert tables (schemas/clickhouse/009_alerts.sql) and the
 * row kinds the detect stage emits, with the pure conversions from what a
 * detector says. DateTime64(3) columns take epoch milliseconds.
 */
import { createHash } from 'node:crypto';
import { rowKind } from '../pipeline/stage.js';
import { alertId, type AlertResolution, type AlertSignal } from '../detect/alert.js';

export interface AlertSignalRow {
  alert_id: string;
  tenant: string;
  kind: string;
  severity: string;
  subject: string;
  window_start: number;
  event_key: string;
  observed_at: number;
  task_id: string;
  human: string;
  agents: string[];
  chain_hash: string;
  trace_id: string;
  summary: string;
  span_ids: string[];
  link_ids: string[];
  /** The evidence's facts as JSON text. */
  facts: string;
  detector: string;
}

/** A detector's self-resolution on its way to the store, which writes it only for an alert that is not resolved yet. */
export interface AlertResolutionRow {
  alert_id: string;
  tenant: string;
  reason: string;
  detector: string;
  at_ms: number;
}

/** Signals: one row per trigger, folded into alerts by id when read. */
export const ALERT_SIGNALS = rowKind<AlertSignalRow>('alert_signals');
/** Detectors' self-resolutions. */
export const ALERT_RESOLUTIONS = rowKind<AlertResolutionRow>('alert_resolutions');

/** Bounds on what one signal may carry: detectors read hostile spans, and the store keeps what they pass on. */
export const SIGNAL_LIMITS = { text: 2048, ids: 50, agents: 50, factsBytes: 16 * 1024 } as const;

const clip = (s: string, n: number = SIGNAL_LIMITS.text): string => (s.length <= n ? s : s.slice(0, n));
const clipList = (xs: readonly string[], n: number): string[] => xs.slice(0, n).map((x) => clip(x));
const ms = (n: number): number => (Number.isFinite(n) && n > 0 ? Math.floor(n) : 0);

function factsText(facts: AlertSignal['evidence']['facts']): string {
  const text = JSON.stringify(facts);
  if (text.length <= SIGNAL_LIMITS.factsBytes) return text;
  return JSON.stringify({ truncated: true, keys: Object.keys(facts).slice(0, 50) });
}

export function toSignalRow(s: AlertSignal, detector: string): AlertSignalRow {
  return {
    alert_id: alertId(s),
    tenant: s.tenant,
    kind: s.kind,
    severity: s.severity,
    subject: clip(s.subject),
    window_start: ms(s.windowStartMs),
    event_key: clip(s.eventKey, 512),
    observed_at: ms(s.observedAtMs),
    task_id: clip(s.taskId, 512),
    human: clip(s.human, 512),
    agents: clipList(s.agents, SIGNAL_LIMITS.agents),
    chain_hash: clip(s.chainHash, 128),
    trace_id: clip(s.traceId, 128),
    summary: clip(s.summary),
    span_ids: clipList(s.evidence.spanIds, SIGNAL_LIMITS.ids),
    link_ids: clipList(s.evidence.linkIds, SIGNAL_LIMITS.ids),
    facts: factsText(s.evidence.facts),
    detector,
  };
}

export function toResolutionRow(r: AlertResolution, detector: string): AlertResolutionRow {
  return { alert_id: alertId(r), tenant: r.tenant, reason: clip(r.reason), detector, at_ms: ms(r.atMs) };
}

/**
 * The transition id of a detector's self-resolution: one per alert and
 * episode (the episode named by when it opened), so processors that resolve
 * the same episode write what reads count as one transition.
 */
export function selfResolutionId(alertId: string, openedAtMs: number): string {
  return createHash('sha256').update(`${alertId}\n${openedAtMs}`).digest('hex').slice(0, 32);
}
