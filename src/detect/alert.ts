/**
 * Alerts: what detection raises for an analyst to act on. A detector emits
 * AlertSignals; the alert store folds every signal with the same id into one
 * alert (count, first and last seen, evidence), so replicas, restarts and
 * redeliveries never raise the same alert twice. Specified in
 * schemas/alerts.md.
 */
import { createHash } from 'node:crypto';

/** Every kind an alert can have; documented in schemas/alerts.md and the OpenAPI document. */
export const ALERT_KINDS = [
  // 1. delegation patterns: first-seen edges and path shapes
  'delegation.new_edge', // delegator agent → delegatee agent not seen while learning
  'delegation.new_edge_type', // the same, by agent type (SPIFFE path without the instance)
  'delegation.new_domain_crossing', // a delegation crossing two trust domains for the first time
  'delegation.new_path', // a path shape (agent types from the human down) not seen while learning
  // 2. chain depth
  'chain.depth_unusual', // deeper than usual for its root agent type
  'chain.depth_exceeded', // over the configured bound
  // 3. scope usage
  'scope.over_provisioned', // granted scopes left unused over the tracking window
  // 4. cross-agent anomalies
  'resource.many_agents', // one resource touched by many distinct agents or chains in a short window
  'resource.cross_task', // agents of unrelated tasks (different root humans) touching one resource
  'agent.rate_spike', // an agent's action rate far above its own usual rate
  // 5. chain integrity
  'integrity.verification_burst', // a burst of failed verification per agent and reason
  'integrity.not_delegatee', // a chain presented by an agent that is not its delegatee
  'integrity.link_reuse', // one link (jti) seen in several tasks or chains
  // 6. policy
  'policy.violation', // an action the policy engine denied
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** Ordered from least to most severe (Sigma's levels). */
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** What triggered the alert, kept with it for the analyst (and the sinks). */
export interface AlertEvidence {
  /** Actions (span ids) that triggered it. */
  spanIds: string[];
  /** Delegation links (jti or link hash) involved. */
  linkIds: string[];
  /** Detector-specific facts (counts, thresholds, baselines, the unused scopes…), flat and printable. */
  facts: Record<string, string | number | boolean | string[]>;
}

/**
 * One trigger of an alert, as a detector emits it. `subject` and
 * `windowStartMs` with `kind` and `tenant` make the alert's identity: the
 * same subject in the same window is the same alert. First-seen detectors
 * use window 0 (the alert is about the edge, whenever it fires).
 */
export interface AlertSignal {
  kind: AlertKind;
  severity: Severity;
  /** Trust domain the alert belongs to (an analyst sees only their tenants' alerts). */
  tenant: string;
  /** What the alert is about, e.g. "spiffe://a/agent/x -> spiffe://a/agent/y", an agent id, a resource. */
  subject: string;
  /** Start of the evaluation window (ms), 0 when the alert is not windowed. */
  windowStartMs: number;
  /** What makes this trigger distinct (e.g. the span id): a redelivered trigger has the same key and counts once. */
  eventKey: string;
  /** When the triggering behaviour happened (ms). */
  observedAtMs: number;
  taskId: string;
  human: string;
  agents: string[];
  /** Chain hash of the chain involved ('' if none). */
  chainHash: string;
  traceId: string;
  /** One line an analyst reads first. */
  summary: string;
  evidence: AlertEvidence;
}

/**
 * A detector saying a condition no longer holds (a scope got used, a burst
 * ended): the alert with this identity resolves itself, with the reason.
 */
export interface AlertResolution {
  kind: AlertKind;
  tenant: string;
  subject: string;
  windowStartMs: number;
  reason: string;
  atMs: number;
}

/** open → acknowledged → resolved; a resolved alert that triggers again opens again. */
export const ALERT_STATES = ['open', 'acknowledged', 'resolved'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

/**
 * The alert's id: derived from what it is about, so every processor, restart
 * and redelivery computes the same one. 32 hex characters of SHA-256 over
 * the length-prefixed identity fields (no separator can be forged into a field).
 */
export function alertId(a: { kind: AlertKind; tenant: string; subject: string; windowStartMs: number }): string {
  const h = createHash('sha256');
  for (const part of [a.kind, a.tenant, a.subject, String(a.windowStartMs)]) {
    const b = Buffer.from(part, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    h.update(len).update(b);
  }
  return h.digest('hex').slice(0, 32);
}
