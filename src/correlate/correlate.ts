import type { AgentSpan } from '../model/span.js';
import type { Verdict } from '../model/verdict.js';
import type { ChainCheck, ChainSummary } from '../model/delegation.js';
import type { ActionRow, DelegationRow } from './rows.js';
import { nsToDateTime64 } from './time.js';

const EMPTY: string[] = [];

/**
 * Turns a verified span into its action row: the task it belongs to, the human
 * at the root of its chain, and the verdict with its reasons. Pure.
 */
export function toActionRow(
  span: AgentSpan,
  verdict: Verdict,
  chain: ChainSummary | null,
  chainHash: string,
  receivedAtMs: number,
): ActionRow {
  const codes: string[] = [];
  const details: string[] = [];
  for (const r of verdict.reasons) {
    codes.push(r.code);
    details.push(r.link === undefined ? r.message : `link ${r.link}: ${r.message}`);
  }
  return {
    task_id: span.taskId,
    ts: nsToDateTime64(span.startNs),
    end_ts: nsToDateTime64(span.endNs),
    trace_id: span.traceId,
    span_id: span.spanId,
    parent_span_id: span.parentSpanId,
    name: span.name,
    kind: span.kind,
    status_code: span.statusCode,
    service_name: span.serviceName,
    operation: span.operation,
    agent_id: span.agentId,
    agent_name: span.agentName,
    peer_id: span.peer?.id ?? '',
    tool_name: span.toolName,
    root_human: chain?.rootHuman ?? '',
    root_issued_at: chain?.rootIssuedAtMs ?? 0,
    purpose: chain?.purpose ?? '',
    delegator: chain?.delegator ?? '',
    chain_depth: chain?.depth ?? 0,
    chain_path: chain?.path ?? EMPTY,
    chain_hash: chainHash,
    chain_evidence: chain?.evidence ?? '',
    scopes_granted: chain?.grantedScopes ?? EMPTY,
    scopes_used: span.scopesUsed,
    resource: span.resource,
    verdict: verdict.status,
    reasons: codes,
    reason_details: details,
    attributes: span.attributes,
    received_at: receivedAtMs,
  };
}

/** Index of the first link a structural reason points at (Infinity when none does). */
export function firstBadLink(check: ChainCheck): number {
  let firstBad = Infinity;
  for (const r of check.reasons) if (r.link !== undefined && r.link < firstBad) firstBad = r.link;
  return firstBad;
}

/** One row per link of a chain; `valid` is false for a link a structural reason points at (or any after it). */
export function toDelegationRows(check: ChainCheck, nowMs: number): DelegationRow[] {
  const firstBad = firstBadLink(check);
  const purpose = check.links[0]?.claims.purpose ?? '';
  return check.links.map((link, i) => {
    const c = link.claims;
    return {
      link_hash: link.hash,
      jti: c.jti,
      task_id: c.task,
      delegator: c.iss,
      delegatee: c.sub,
      delegator_kind: i === 0 ? 'human' : 'agent',
      scopes: c.scope,
      issued_at: c.iat * 1000,
      not_before: c.nbf * 1000,
      expires_at: c.exp * 1000,
      parent_hash: c.prf ?? '',
      depth: i + 1,
      trust_domain: link.trustDomain,
      kid: link.kid,
      alg: link.alg,
      purpose,
      valid: i < firstBad,
      first_seen: nowMs,
    };
  });
}
