/**
 * Row shapes of the ClickHouse tables in schemas/clickhouse. DateTime64(9)
 * columns take a DateTime64 text (see time.ts); DateTime64(3) columns take
 * epoch milliseconds as JSON numbers, which ClickHouse reads as ticks.
 */
export interface ActionRow {
  task_id: string;
  ts: string; // unix ns
  end_ts: string; // unix ns
  trace_id: string;
  span_id: string;
  parent_span_id: string;
  name: string;
  kind: number;
  status_code: number;
  service_name: string;
  operation: string;
  agent_id: string;
  agent_name: string;
  /** The sender's proven SPIFFE ID ('' when the request proved none); migration 007. */
  peer_id: string;
  tool_name: string;
  root_human: string;
  root_issued_at: number; // unix ms
  purpose: string;
  delegator: string;
  chain_depth: number;
  chain_path: string[];
  chain_hash: string;
  /** 'signed-links', 'sts-token' (hops vouched for by the STS alone), '' without a chain. */
  chain_evidence: string;
  scopes_granted: string[];
  scopes_used: string[];
  resource: string;
  verdict: string;
  reasons: string[];
  reason_details: string[];
  attributes: Record<string, string>;
  received_at: number; // unix ms
}

export interface DelegationRow {
  link_hash: string;
  jti: string;
  task_id: string;
  delegator: string;
  delegatee: string;
  delegator_kind: 'human' | 'agent';
  scopes: string[];
  issued_at: number; // unix ms
  not_before: number;
  expires_at: number;
  parent_hash: string;
  depth: number;
  trust_domain: string;
  kid: string;
  alg: string;
  purpose: string;
  valid: boolean;
  first_seen: number;
}
