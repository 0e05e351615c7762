import type { ClickHouseClient } from '@clickhouse/client';
import type { ActionRow, DelegationRow } from '../../src/correlate/rows.js';
import { nsToDateTime64 } from '../../src/correlate/time.js';

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
