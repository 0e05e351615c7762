/**
 * Decision log: every policy decision as an event in OPA's decision-log shape
 * (decision_id, path, input, result, timestamp, bundles{revision}, labels),
 * so OPA tooling can read chainsight's decisions, and the row the
 * `policy_decisions` table would hold. Pure: ids and times are given or
 * derived from the content; inputs carry token hashes, never tokens.
 */
import { createHash } from 'node:crypto';
import type { ActionPolicyInput, ChainPolicyInput, PolicyDecision } from './types.js';

/** The decision path, as OPA would name it for policies/chainsight.rego. */
export const DECISION_PATH = 'chainsight/policy/decision';
/** The bundle name revisions are reported under. */
export const BUNDLE_NAME = 'chainsight';

export interface DecisionLogEvent {
  decision_id: string;
  path: string;
  input: ChainPolicyInput | ActionPolicyInput;
  result: { result: PolicyDecision['result']; rules: string[]; reasons: PolicyDecision['reasons'] };
  /** RFC 3339 with nanoseconds, UTC. */
  timestamp: string;
  bundles: Record<string, { revision: string }>;
  labels: Record<string, string>;
}

export interface DecisionContext {
  /** When the decision was made, ms since the epoch. */
  atMs: number;
  /** The same instant in ns since the epoch as decimal text (spans carry it); exact where `atMs` is not. */
  atNs?: string;
  /** Defaults to a digest of revision, input and time (stable for a re-delivered span). */
  decisionId?: string;
  /** Extra labels (e.g. task, trace and span ids). */
  labels?: Record<string, string>;
}

function rfc3339(ms: number, ns?: string): string {
  if (ns !== undefined && /^\d{1,20}$/.test(ns)) {
    const n = BigInt(ns);
    const iso = new Date(Number(n / 1_000_000n)).toISOString();
    if (!Number.isNaN(Date.parse(iso))) return `${iso.slice(0, -1)}${(n % 1_000_000n).toString().padStart(6, '0')}Z`;
  }
  const whole = Math.floor(ms);
  return `${new Date(whole).toISOString().slice(0, -1)}${Math.round((ms - whole) * 1e6).toString().padStart(6, '0')}Z`;
}

/** A UUID-shaped id derived from content, so one decision logged twice keeps one id. */
function derivedId(d: PolicyDecision, input: unknown, at: string): string {
  const h = createHash('sha256').update(d.revision).update('\0').update(JSON.stringify(input) ?? '').update('\0').update(at).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16] as string, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function decisionLogEvent(d: PolicyDecision, input: ChainPolicyInput | ActionPolicyInput, ctx: DecisionContext): DecisionLogEvent {
  return {
    decision_id: ctx.decisionId ?? derivedId(d, input, ctx.atNs ?? String(ctx.atMs)),
    path: DECISION_PATH,
    input,
    result: { result: d.result, rules: d.rules, reasons: d.reasons },
    timestamp: rfc3339(ctx.atMs, ctx.atNs),
    bundles: { [BUNDLE_NAME]: { revision: d.revision } },
    labels: { app: 'chainsight', policy_version: d.policyVersion, ...(ctx.labels ?? {}) },
  };
}

/** One row of the `policy_decisions` table (schemas/clickhouse/005_policy_decisions.sql). */
export interface DecisionRow {
  decision_id: string;
  /** ClickHouse DateTime64(9) text, UTC. */
  ts: string;
  task_id: string;
  trace_id: string;
  span_id: string;
  /** The acting agent (its trust domain decides which tenants see the decision). */
  agent_id?: string;
  kind: 'chain' | 'action';
  policy_version: string;
  revision: string;
  result: PolicyDecision['result'];
  rules: string[];
  reason_codes: string[];
  reason_details: string[];
  reason_links: number[];
  link_hashes: string[];
  input: string;
}

export function decisionRow(event: DecisionLogEvent, ids: { taskId: string; traceId: string; spanId: string }): DecisionRow {
  const input = event.input as Partial<ActionPolicyInput>;
  const links = Array.isArray(input.links) ? input.links : [];
  return {
    decision_id: event.decision_id,
    ts: event.timestamp.replace('T', ' ').replace('Z', ''),
    task_id: ids.taskId,
    trace_id: ids.traceId,
    span_id: ids.spanId,
    kind: input.action === undefined ? 'chain' : 'action',
    policy_version: event.labels.policy_version ?? '',
    revision: event.bundles[BUNDLE_NAME]?.revision ?? '',
    result: event.result.result,
    rules: event.result.rules,
    reason_codes: event.result.reasons.map((r) => r.code),
    reason_details: event.result.reasons.map((r) => r.message),
    reason_links: event.result.reasons.map((r) => r.link ?? -1),
    link_hashes: links.map((l) => String(l?.hash ?? '')),
    input: JSON.stringify(event.input),
  };
}
