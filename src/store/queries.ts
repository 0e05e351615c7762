import type { ClickHouseClient } from '@clickhouse/client';
import { assertIdentifier } from './client.js';
import type { ActionRow } from '../correlate/rows.js';

/** Filters of the task list; every value travels as a query parameter. */
export interface TaskFilter {
  fromMs?: number;
  toMs?: number;
  human?: string;
  agent?: string;
  verdict?: 'verified' | 'failed';
  limit?: number;
}

export interface TaskSummary {
  task_id: string;
  purpose: string;
  root_human: string;
  requested_at: string;
  first_action: string;
  last_action: string;
  actions: number;
  agents: number;
  failed: number;
}

/** An action as the tree builder needs it: its stored row, times as ClickHouse returns them. */
export type ActionView = Pick<
  ActionRow,
  | 'trace_id' | 'span_id' | 'parent_span_id' | 'ts' | 'end_ts' | 'name' | 'operation' | 'agent_id' | 'agent_name'
  | 'tool_name' | 'root_human' | 'purpose' | 'delegator' | 'chain_depth' | 'chain_path' | 'scopes_granted'
  | 'scopes_used' | 'resource' | 'verdict' | 'reasons' | 'reason_details'
> & { root_issued_at: string };

export interface DelegationView {
  link_hash: string;
  jti: string;
  task_id: string;
  delegator: string;
  delegatee: string;
  delegator_kind: string;
  scopes: string[];
  issued_at: string;
  not_before: string;
  expires_at: string;
  depth: number;
  valid: boolean;
}

type SpanTuple = [
  string, string, string, string, string, string, string, string, string, string,
  string[], string, string, string[], string[], string,
];
type ChainTuple = [string, string, string, string, string, number, string[], string[]];
const NO_CHAIN: ChainTuple = ['', '', '', '', '', 0, [], []];

/** A literal in one fixed shape: V8 keeps such objects fast, unlike keys added in a loop. */
function actionView(r: SpanTuple, c: ChainTuple): ActionView {
  return {
    trace_id: r[0], span_id: r[1], parent_span_id: r[2], ts: r[3], end_ts: r[4], name: r[5], operation: r[6],
    agent_id: r[7], agent_name: r[8], tool_name: r[9], root_human: c[1], root_issued_at: c[2], purpose: c[3],
    delegator: c[4], chain_depth: c[5], chain_path: c[6], scopes_granted: c[7], scopes_used: r[10],
    resource: r[11], verdict: r[12], reasons: r[13], reason_details: r[14],
  };
}

/**
 * One row per span, its newest version: received_at is when the processor
 * judged the span, so a re-delivery or a later re-verdict (a revoked key, a
 * changed policy) wins over what came before. The same row the table's
 * ReplacingMergeTree(received_at) keeps when it merges, so answers do not
 * change with merges. See schemas/clickhouse/001_actions.sql.
 */
const NEWEST_PER_SPAN = 'ORDER BY received_at DESC LIMIT 1 BY task_id, trace_id, span_id';

const MAX_LIMIT = 1000;
/** Bound on rows one tree may load, so one request cannot exhaust memory. */
export const MAX_TREE_ACTIONS = 200_000;

/** Analyst-facing reads. SQL text holds only trusted identifiers; every value is a query parameter. */
export class Queries {
  private readonly db: string;

  constructor(private readonly client: ClickHouseClient, database: string) {
    this.db = assertIdentifier(database);
  }

  async listTasks(f: TaskFilter): Promise<TaskSummary[]> {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: Math.min(Math.max(f.limit ?? 100, 1), MAX_LIMIT) };
    if (f.fromMs !== undefined) {
      where.push('ts >= fromUnixTimestamp64Milli({from:Int64})');
      params.from = f.fromMs;
    }
    if (f.toMs !== undefined) {
      where.push('ts < fromUnixTimestamp64Milli({to:Int64})');
      params.to = f.toMs;
    }
    const having: string[] = [];
    if (f.human !== undefined) {
      having.push('has(humans, {human:String})');
      params.human = f.human;
    }
    if (f.agent !== undefined) {
      having.push('has(agent_ids, {agent:String})');
      params.agent = f.agent;
    }
    if (f.verdict === 'failed') having.push('failed > 0');
    if (f.verdict === 'verified') having.push('failed = 0');
    // The inner query renames its columns so the outer aliases cannot shadow them. It reads every
    // task, so it keeps each span's newest row with FINAL (the engine's own rule, max received_at per
    // sorting key): over the whole table that measured faster than LIMIT 1 BY's hash of every span.
    // Per-task queries stay on LIMIT 1 BY, where FINAL was the slower one.
    const query = `
      SELECT task_id,
             anyIf(a_purpose, a_purpose != '') AS purpose,
             anyIf(a_human, a_human != '') AS root_human,
             minIf(a_issued, a_issued > 0) AS requested_at,
             min(a_ts) AS first_action,
             max(a_end) AS last_action,
             count() AS actions,
             uniqExact(a_agent) AS agents,
             countIf(a_verdict = 'failed') AS failed,
             groupUniqArray(a_human) AS humans,
             groupUniqArray(a_agent) AS agent_ids
      FROM (
        SELECT task_id, purpose AS a_purpose, root_human AS a_human, root_issued_at AS a_issued, ts AS a_ts,
               end_ts AS a_end, agent_id AS a_agent, verdict AS a_verdict
        FROM ${this.db}.actions FINAL
        ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
      )
      GROUP BY task_id
      ${having.length ? 'HAVING ' + having.join(' AND ') : ''}
      ORDER BY first_action DESC
      LIMIT {limit:UInt32}`;
    const rows = await this.rows<TaskSummary & { humans?: unknown; agent_ids?: unknown }>(query, params);
    return rows.map(({ humans: _h, agent_ids: _a, ...t }) => ({ ...t, actions: Number(t.actions), agents: Number(t.agents), failed: Number(t.failed) }));
  }

  /**
   * Every action of one task, once each, in time order. What belongs to a chain
   * (root human, path, grant…) is the same on every action of that chain, so it
   * is read once per chain and shared, rather than sent and parsed per action.
   */
  async taskActions(taskId: string): Promise<ActionView[]> {
    const params = { task: taskId, max: MAX_TREE_ACTIONS };
    const chains = await this.client.query({
      query: `
        SELECT chain_hash, root_human, root_issued_at, purpose, delegator, chain_depth, chain_path, scopes_granted
        FROM ${this.db}.actions
        WHERE task_id = {task:String}
        ORDER BY received_at DESC
        LIMIT 1 BY chain_hash`,
      query_params: params,
      format: 'JSONCompactEachRow',
    });
    const byHash = new Map<string, ChainTuple>();
    for (const c of await chains.json<ChainTuple>()) byHash.set(c[0], c);
    const spans = await this.client.query({
      query: `
        SELECT trace_id, span_id, parent_span_id, ts, end_ts, name, operation, agent_id, agent_name, tool_name,
               scopes_used, resource, verdict, reasons, reason_details, chain_hash
        FROM (
          SELECT trace_id, span_id, parent_span_id, ts, end_ts, name, operation, agent_id, agent_name, tool_name,
                 scopes_used, resource, verdict, reasons, reason_details, chain_hash
          FROM ${this.db}.actions
          WHERE task_id = {task:String}
          ${NEWEST_PER_SPAN}
        )
        ORDER BY ts
        LIMIT {max:UInt32}`,
      query_params: params,
      format: 'JSONCompactEachRow',
    });
    return (await spans.json<SpanTuple>()).map((r) => actionView(r, byHash.get(r[15]) ?? NO_CHAIN));
  }

  /** Links an agent issued or received, newest first. */
  async agentDelegations(agentId: string, limit = 500): Promise<DelegationView[]> {
    const query = `
      SELECT link_hash, jti, task_id, delegator, delegatee, delegator_kind, scopes,
             issued_at, not_before, expires_at, depth, valid
      FROM (
        SELECT link_hash, jti, task_id, delegator, delegatee, delegator_kind, scopes,
               issued_at, not_before, expires_at, depth, valid
        FROM ${this.db}.delegations
        WHERE delegator = {agent:String} OR delegatee = {agent:String}
        ORDER BY first_seen DESC
        LIMIT 1 BY link_hash
      )
      ORDER BY issued_at DESC
      LIMIT {limit:UInt32}`;
    return this.rows<DelegationView>(query, { agent: agentId, limit: Math.min(Math.max(limit, 1), MAX_LIMIT) });
  }

  async countActions(): Promise<number> {
    const rows = await this.rows<{ n: string }>(
      // Which version is kept does not change the count: no ordering needed.
      `SELECT count() AS n FROM (SELECT 1 FROM ${this.db}.actions LIMIT 1 BY task_id, trace_id, span_id)`,
      {},
    );
    return Number(rows[0]?.n ?? 0);
  }

  private async rows<T>(query: string, query_params: Record<string, unknown>): Promise<T[]> {
    const rs = await this.client.query({ query, query_params, format: 'JSONEachRow' });
    return rs.json<T>();
  }
}
