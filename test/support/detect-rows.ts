/**
 * Test helper: action and delegation rows as the correlate stage builds them,
 * for a chain given as its path (human first), to feed detectors directly.
 */
import { createHash } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { nsToDateTime64 } from '../../src/correlate/time.js';
import type { ActionRow, DelegationRow } from '../../src/correlate/rows.js';
import { toActionRow } from '../../src/correlate/correlate.js';
import { failed, VERIFIED } from '../../src/model/verdict.js';
import type { DetectionInput } from '../../src/detect/detector.js';
import { makeSpan } from './spans.js';

let seq = 0;

/** An action row as correlation writes it, for detectors that read the store; override what the test is about. */
export function actionRow(over: Partial<ActionRow> & { atMs?: number } = {}): ActionRow {
  const n = ++seq;
  const { atMs = Date.now(), ...rest } = over;
  return {
    task_id: 'task-1', ts: nsToDateTime64(`${atMs}000000`), end_ts: nsToDateTime64(`${atMs + 5}000000`),
    trace_id: n.toString(16).padStart(32, '0'), span_id: n.toString(16).padStart(16, '0'), parent_span_id: '',
    name: 'execute_tool', kind: 1, status_code: 0, service_name: 'svc', operation: 'execute_tool',
    agent_id: 'spiffe://acme.example/agent/inventory/i-1', agent_name: 'inventory', peer_id: '', tool_name: 'tool',
    root_human: 'alice@acme.example', root_issued_at: atMs, purpose: '', delegator: '', chain_depth: 1,
    chain_path: [], chain_hash: 'chain-1', chain_evidence: 'signed-links', scopes_granted: [], scopes_used: [],
    resource: '', verdict: 'verified', reasons: [], reason_details: [], attributes: {}, received_at: atMs,
    ...rest,
  };
}

/** A delegation link row. */
export function delegationRow(over: Partial<DelegationRow> = {}): DelegationRow {
  const n = ++seq;
  const at = over.issued_at ?? Date.now();
  return {
    link_hash: `link-${n}`, jti: `jti-${n}`, task_id: 'task-1', delegator: 'alice@acme.example',
    delegatee: 'spiffe://acme.example/agent/inventory/i-1', delegator_kind: 'agent', scopes: [], issued_at: at,
    not_before: at, expires_at: at + 3_600_000, parent_hash: '', depth: 1, trust_domain: 'acme.example',
    kid: 'k', alg: 'EdDSA', purpose: '', valid: true, first_seen: at, ...over,
  };
}

export async function insertRows(client: ClickHouseClient, table: string, values: object[]): Promise<void> {
  if (values.length > 0) await client.insert({ table, values, format: 'JSONEachRow' });
}

/** A spiffe ID in `td` for agent `name` (optionally an instance). */
export const agent = (td: string, name: string, instance?: string): string => `spiffe://${td}/agent/${name}${instance ? `/${instance}` : ''}`;

/** An action acting under the chain `path` ([human, agent, …]), verified unless `fail` names a reason. */
export function actionOn(path: string[], over: { fail?: string; task?: string; nowMs?: number } = {}): ActionRow {
  const n = ++seq;
  const span = makeSpan({ spanId: n.toString(16).padStart(16, '0'), taskId: over.task ?? 'task-1', agentId: path[path.length - 1] as string });
  const verdict = over.fail === undefined ? VERIFIED : failed([{ code: over.fail as 'signature.invalid', message: 'test' }]);
  const hash = createHash('sha256').update(path.join('\n')).digest('base64url');
  const summary = {
    rootHuman: path[0] as string, rootIssuedAtMs: 1, purpose: 'p', depth: path.length - 1, path,
    delegator: path[path.length - 2] as string, grantedScopes: [], linkHashes: [], evidence: 'signed-links' as const,
  };
  return toActionRow(span, verdict, summary, hash, over.nowMs ?? 0);
}

/** The delegation rows of a chain's links, with jti `jti-<delegatee>`. */
export function linksOf(path: string[], task = 'task-1'): DelegationRow[] {
  return path.slice(1).map((to, i) => ({
    link_hash: `h-${i}-${to}`, jti: `jti-${to}`, task_id: task, delegator: path[i] as string, delegatee: to,
    delegator_kind: i === 0 ? 'human' : 'agent', scopes: [], issued_at: 0, not_before: 0, expires_at: 0, parent_hash: '',
    depth: i + 1, trust_domain: '', kid: '', alg: '', purpose: '', valid: true, first_seen: 0,
  }));
}

/** A batch judged at `nowMs` holding one action per chain (and no delegation rows unless given). */
export function batchOf(nowMs: number, paths: string[][], delegations: DelegationRow[] = [], fail?: string): DetectionInput {
  return { nowMs, actions: paths.map((p) => actionOn(p, { nowMs, ...(fail ? { fail } : {}) })), delegations };
}
