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
  /** Opaque position from a previous page's nextCursor. */
  cursor?: string;
  /** Tenant restriction: only these trust domains' actions count (undefined: all; []: none). */
  trustDomains?: string[];
}

/** One page of tasks; nextCursor continues it, null on the last page. */
export interface TaskPage {
  tasks: TaskSummary[];
  nextCursor: string | null;
}

/** Options of a per-task or per-agent list: tenant restriction, keyset position, page size. */
export interface ListOptions<P> {
  trustDomains?: string[];
  after?: P;
  limit?: number;
}

/** A page of a keyset-paginated list: `next` is the last row's position when more rows follow. */
export interface Page<T, P> {
  items: T[];
  next: P | null;
}

/** Position in a task's actions: (ts, span_id) of the last action seen. */
export interface ActionPosition { ts: string; spanId: string }
/** Position in an agent's delegations: (issued_at, link_hash) of the last link seen, newest first. */
export interface DelegationPosition { issuedAt: string; linkHash: string }

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
  trust_domain: string;
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

/**
 * The trust domain of an action's agent, from its SPIFFE ID
 * (`spiffe://<td>/…`); '' for an agent id that is not one, which no tenant
 * restriction matches (fail closed).
 */
const AGENT_TRUST_DOMAIN = "extract(agent_id, '^spiffe://([a-z0-9._-]+)/')";

function pageSize(limit: number | undefined, fallback: number): number {
  return Math.min(Math.max(limit ?? fallback, 1), MAX_LIMIT);
}

/** Rows fetched one past the page: the extra row says whether a next page exists, and is dropped. */
function toPage<T, P>(rows: T[], limit: number, position: (last: T) => P): Page<T, P> {
  if (rows.length <= limit) return { items: rows, next: null };
  const items = rows.slice(0, limit);
  return { items, next: position(items[items.length - 1]!) };
}
/** Bound on rows one tree may load, so one request cannot exhaust memory. */
export const MAX_TREE_ACTIONS = 200_000;

/** Analyst-facing reads. SQL text holds only trusted identifiers; every value is a query parameter. */
export class Queries {
  private readonly db: string;

  constructor(private readonly client: ClickHouseClient, database: string) {
    this.db = assertIdentifier(database);
  }

  /**
   * Tasks, newest first. Under a tenant restriction a task exists for the
   * tenant when any of its actions' agents is in its trust domains, and its
   * summary counts only those actions.
   */
  async listTasks(f: TaskFilter): Promise<TaskPage> {
    const where: string[] = [];
    const limit = pageSize(f.limit, 100);
    const params: Record<string, unknown> = { limit: limit + 1 };
    if (f.trustDomains !== undefined) {
      where.push(`has({tds:Array(String)}, ${AGENT_TRUST_DOMAIN})`);
      params.tds = f.trustDomains;
    }
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
    if (f.cursor !== undefined) {
      const [first, task] = JSON.parse(f.cursor) as [string, string];
      having.push('(first_action, task_id) < (parseDateTime64BestEffort({c_first:String}, 9), {c_task:String})');
      params.c_first = first;
      params.c_task = task;
    }
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
      ORDER BY first_action DESC, task_id DESC
      LIMIT {limit:UInt32}`;
    const rows = await this.rows<TaskSummary & { humans?: unknown; agent_ids?: unknown }>(query, params);
    const tasks = rows.map(({ humans: _h, agent_ids: _a, ...t }) => ({ ...t, actions: Number(t.actions), agents: Number(t.agents), failed: Number(t.failed) }));
    const page = toPage(tasks, limit, (t) => JSON.stringify([t.first_action, t.task_id]));
    return { tasks: page.items, nextCursor: page.next };
  }

  /**
   * Actions of one task, once each, in (ts, span_id) order: every one (up to
   * MAX_TREE_ACTIONS) unless `limit` asks for fewer, from after `after`, only
   * those whose agent is in `trustDomains` when that is given. What belongs to
   * a chain (root human, path, grant…) is the same on every action of that
   * chain, so it is read once per chain and shared, rather than sent and
   * parsed per action.
   */
  async taskActions(taskId: string, opts: ListOptions<ActionPosition> = {}): Promise<ActionView[]> {
    const params: Record<string, unknown> = { task: taskId, max: Math.min(Math.max(opts.limit ?? MAX_TREE_ACTIONS, 1), MAX_TREE_ACTIONS) };
    // Filters apply to each span's newest row, so an older version can never resurface through them.
    const outer: string[] = [];
    if (opts.trustDomains !== undefined) {
      outer.push(`has({tds:Array(String)}, ${AGENT_TRUST_DOMAIN})`);
      params.tds = opts.trustDomains;
    }
    if (opts.after !== undefined) {
      outer.push('(ts, span_id) > (parseDateTime64BestEffort({a_ts:String}, 9), {a_span:String})');
      params.a_ts = opts.after.ts;
      params.a_span = opts.after.spanId;
    }
    const chains = await this.client.query({
      query: `
        SELECT chain_hash, root_human, root_issued_at, purpose, delegator, chain_depth, chain_path, scopes_granted
        FROM ${this.db}.actions
        WHERE task_id = {task:String}
        ORDER BY received_at DESC
        LIMIT 1 BY chain_hash`,
      query_params: { task: taskId },
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
        ${outer.length ? 'WHERE ' + outer.join(' AND ') : ''}
        ORDER BY ts, span_id
        LIMIT {max:UInt32}`,
      query_params: params,
      format: 'JSONCompactEachRow',
    });
    return (await spans.json<SpanTuple>()).map((r) => actionView(r, byHash.get(r[15]) ?? NO_CHAIN));
  }

  /** One page of a task's actions, for the paginated list. */
  async taskActionPage(taskId: string, opts: ListOptions<ActionPosition> = {}): Promise<Page<ActionView, ActionPosition>> {
    const limit = pageSize(opts.limit, MAX_LIMIT);
    const rows = await this.taskActions(taskId, { ...opts, limit: limit + 1 });
    return toPage(rows, limit, (a) => ({ ts: a.ts, spanId: a.span_id }));
  }

  /**
   * Links an agent issued or received, newest first (issued_at, then
   * link_hash), only links of `trustDomains` when that is given.
   */
  async agentDelegations(agentId: string, opts: ListOptions<DelegationPosition> = {}): Promise<Page<DelegationView, DelegationPosition>> {
    const limit = pageSize(opts.limit, 500);
    const params: Record<string, unknown> = { agent: agentId, limit: limit + 1 };
    const outer: string[] = [];
    if (opts.trustDomains !== undefined) {
      outer.push('has({tds:Array(String)}, trust_domain)');
      params.tds = opts.trustDomains;
    }
    if (opts.after !== undefined) {
      outer.push('(issued_at, link_hash) < (parseDateTime64BestEffort({a_issued:String}, 3), {a_link:String})');
      params.a_issued = opts.after.issuedAt;
      params.a_link = opts.after.linkHash;
    }
    const query = `
      SELECT link_hash, jti, task_id, delegator, delegatee, delegator_kind, scopes,
             issued_at, not_before, expires_at, depth, valid, trust_domain
      FROM (
        SELECT link_hash, jti, task_id, delegator, delegatee, delegator_kind, scopes,
               issued_at, not_before, expires_at, depth, valid, trust_domain
        FROM ${this.db}.delegations
        WHERE delegator = {agent:String} OR delegatee = {agent:String}
        ORDER BY first_seen DESC
        LIMIT 1 BY link_hash
      )
      ${outer.length ? 'WHERE ' + outer.join(' AND ') : ''}
      ORDER BY issued_at DESC, link_hash DESC
      LIMIT {limit:UInt32}`;
    const rows = await this.rows<DelegationView>(query, params);
    return toPage(rows, limit, (d) => ({ issuedAt: d.issued_at, linkHash: d.link_hash }));
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
