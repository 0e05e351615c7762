import type { ClickHouseClient } from '@clickhouse/client';
import { assertIdentifier } from './client.js';
import type { ActionRow } from '../correlate/rows.js';
import { decodeTaskCursor, encodeTaskCursor, type TaskCursor } from './task-summary-cursor.js';
import {
  candidatesStatement, countsStatement, failedRecountStatement,
  type CandidateFilter, type CandidateLookup, type CandidateRow, type CountRow, type RecountRow, type Statement,
} from './task-summary-query.js';
import { orderWindowStatement, windowFloor, type OrderRow } from './task-search-index.js';
import type { TaskSummary } from '../model/views.js';

export type { TaskSummary } from '../model/views.js';

export { InvalidCursor } from './task-summary-cursor.js';

/**
 * Filters of the task list; every value travels as a query parameter.
 * An `alert` filter comes with the alerts table: see the extension point in
 * task-summary-query.ts.
 */
export interface TaskFilter {
  /** Tasks whose activity (first action to last action) meets [fromMs, toMs). */
  fromMs?: number;
  toMs?: number;
  /** A root human named by any of the task's chains, verified or not. */
  human?: string;
  /** An agent (its SPIFFE ID) with an action in the task. */
  agent?: string;
  /** failed: some span's newest verdict failed; verified: none did. */
  verdict?: 'verified' | 'failed';
  /** Tasks an alert was raised on: of any kind ('any'), or of this alert kind. */
  alert?: string;
  limit?: number;
  /** From the previous page's nextCursor; refused with InvalidCursor unless it is one. */
  cursor?: string;
  /**
   * Tenant restriction: only the actions whose agent is in one of these trust
   * domains count, and a task is listed when it has any. undefined: all; []: nothing.
   */
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


/**
 * A page of tasks, newest request first (requested_at DESC, task_id ASC; a task
 * with no verified chain sorts by its first action). nextCursor is null on the
 * last page. A page may hold fewer than `limit` tasks and still have a next one
 * when a verdict filter had to set many candidates aside.
 */
export interface TaskPage {
  tasks: TaskSummary[];
  nextCursor: string | null;
}

/** An action as the tree builder needs it: its stored row, times as ClickHouse returns them. */
export type ActionView = Pick<
  ActionRow,
  | 'trace_id' | 'span_id' | 'parent_span_id' | 'ts' | 'end_ts' | 'name' | 'operation' | 'agent_id' | 'agent_name'
  | 'tool_name' | 'root_human' | 'purpose' | 'delegator' | 'chain_depth' | 'chain_path' | 'scopes_granted'
  | 'scopes_used' | 'resource' | 'verdict' | 'reasons' | 'reason_details' | 'chain_evidence' | 'peer_id'
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
  string[], string, string, string[], string[], string, string,
];
type ChainTuple = [string, string, string, string, string, number, string[], string[], string];
const NO_CHAIN: ChainTuple = ['', '', '', '', '', 0, [], [], ''];

/** A literal in one fixed shape: V8 keeps such objects fast, unlike keys added in a loop. */
function actionView(r: SpanTuple, c: ChainTuple): ActionView {
  return {
    trace_id: r[0], span_id: r[1], parent_span_id: r[2], ts: r[3], end_ts: r[4], name: r[5], operation: r[6],
    agent_id: r[7], agent_name: r[8], tool_name: r[9], root_human: c[1], root_issued_at: c[2], purpose: c[3],
    delegator: c[4], chain_depth: c[5], chain_path: c[6], scopes_granted: c[7], scopes_used: r[10],
    resource: r[11], verdict: r[12], reasons: r[13], reason_details: r[14], chain_evidence: c[8], peer_id: r[16],
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
export const AGENT_TRUST_DOMAIN = "extract(agent_id, '^spiffe://([a-z0-9._-]+)/')";

function pageSize(limit: number | undefined, fallback: number): number {
  return Math.min(Math.max(limit ?? fallback, 1), MAX_LIMIT);
}

/** Rows fetched one past the page: the extra row says whether a next page exists, and is dropped. */
export function toPage<T, P>(rows: T[], limit: number, position: (last: T) => P): Page<T, P> {
  if (rows.length <= limit) return { items: rows, next: null };
  const items = rows.slice(0, limit);
  return { items, next: position(items[items.length - 1]!) };
}

/** Candidate batches one task-list request may examine when a verdict filter sets tasks aside. */
const MAX_FILTER_ROUNDS = 8;

const cursorOf = (c: CandidateRow): TaskCursor => ({ sortMs: Number(c[1]), taskId: c[0] });
/** Bound on rows one tree may load, so one request cannot exhaust memory. */
export const MAX_TREE_ACTIONS = 200_000;

export interface QueriesOptions {
  /**
   * `index` (default): task search through migration 014's order and key
   * indexes, a page's columns from migration 016's task_page. `index-wide`:
   * the same indexes with the page's columns from the summary, as before
   * 016. `summary`: through the task summary alone, as before 014. The last
   * two for the side-by-side benchmark and the equivalence test.
   */
  taskSearch?: 'index' | 'index-wide' | 'summary';
  /** Rows of the order index the walk reads first (then twice as many each time); by default the page and a quarter, at least 16 more: stale rows are few. */
  firstWindow?: number;
}

/** Analyst-facing reads. SQL text holds only trusted identifiers; every value is a query parameter. */
export class Queries {
  private readonly db: string;
  private readonly taskSearch: 'index' | 'index-wide' | 'summary';
  private readonly firstWindow: number | undefined;

  constructor(private readonly client: ClickHouseClient, database: string, opts: QueriesOptions = {}) {
    this.db = assertIdentifier(database);
    this.taskSearch = opts.taskSearch ?? 'index';
    this.firstWindow = opts.firstWindow;
  }

  /** Keyset-paged task search over the task summary and its search indexes: see task-summary-query.ts for what it costs. */
  async listTasks(f: TaskFilter): Promise<TaskPage> {
    const limit = Number.isSafeInteger(f.limit) ? Math.min(Math.max(f.limit!, 1), MAX_LIMIT) : 100;
    let after = f.cursor === undefined ? null : decodeTaskCursor(f.cursor);
    if (f.trustDomains !== undefined && f.trustDomains.length === 0) return { tasks: [], nextCursor: null };
    const tasks: TaskSummary[] = [];
    let lastKept: CandidateRow | undefined;
    for (let round = 1; ; round++) {
      const want = limit - tasks.length;
      const batch = await this.candidates(f, after, want + 1);
      const examined = batch.slice(0, want);
      const counted = await this.countTasks(examined, f.trustDomains);
      for (const c of examined) {
        const t = counted.get(c[0])!;
        if (f.verdict === undefined || (f.verdict === 'failed') === t.failed > 0) {
          tasks.push(t);
          lastKept = c;
        }
      }
      if (batch.length <= want) return { tasks, nextCursor: null };
      if (tasks.length === limit) return { tasks, nextCursor: encodeTaskCursor(cursorOf(lastKept!)) };
      after = cursorOf(examined[examined.length - 1]!);
      // Bounded work per request: a short page, and the cursor goes on from the last task examined.
      if (round === MAX_FILTER_ROUNDS) return { tasks, nextCursor: encodeTaskCursor(after) };
    }
  }

  /**
   * Step 1 of the task list: the next `n` tasks after `after` that the filter
   * may keep, in list order. Without a time range, it walks the order index
   * (restricted to the tasks a human, agent or failed filter names) window
   * by window, each twice the last, merging only the windows' tasks, until
   * it has `n` or the index ends. A time range alone scans the page columns' times (task_page).
   */
  private async candidates(f: TaskFilter, after: TaskCursor | null, n: number): Promise<CandidateRow[]> {
    const lookup: CandidateLookup = this.taskSearch === 'index' ? 'keys' : this.taskSearch === 'index-wide' ? 'keys-wide' : 'summary';
    const walk = this.taskSearch !== 'summary' && f.fromMs === undefined && f.toMs === undefined;
    if (!walk) return this.compact<CandidateRow>(candidatesStatement(this.db, f, after, n, lookup));
    const out: CandidateRow[] = [];
    let ceiling: number | null = after === null ? null : after.sortMs;
    for (let size = this.firstWindow ?? n + Math.max(16, n >> 2), first = true; ; size *= 2, first = false) {
      const window = await this.compact<OrderRow>(orderWindowStatement(this.db, f, ceiling, size));
      const floor = windowFloor(window, size);
      if (window.length > 0) {
        const bounds: CandidateFilter = { ids: [...new Set(window.map((w) => w[0]))] };
        if (floor !== null) bounds.floorMs = floor;
        // The first window is bounded above by the cursor; each later one by the previous floor, so none repeats a task.
        if (!first) bounds.ceilingMs = ceiling!;
        out.push(...await this.compact<CandidateRow>(candidatesStatement(this.db, { ...f, ...bounds }, after, n - out.length, lookup)));
      }
      if (out.length >= n || floor === null) return out;
      ceiling = floor;
    }
  }

  /** Step 2 of the task list (see task-summary-query.ts): exact counts for the candidates only. */
  private async countTasks(candidates: CandidateRow[], trustDomains: string[] | undefined): Promise<Map<string, TaskSummary>> {
    const out = new Map<string, TaskSummary>();
    if (candidates.length === 0) return out;
    const counts = new Map<string, CountRow>();
    for (const r of await this.compact<CountRow>(countsStatement(this.db, candidates.map((c) => c[0]), trustDomains))) counts.set(r[0], r);
    // Judged both ways, and a verified judgement may be the newer: the newest verdict per span decides, from actions.
    const doubtful = candidates.filter((c) => {
      const n = counts.get(c[0]);
      return c[8] && n !== undefined && Number(n[2]) + Number(n[3]) > Number(n[1]);
    });
    const recounted = new Map<string, number>();
    if (doubtful.length) {
      for (const [id, n] of await this.compact<RecountRow>(failedRecountStatement(this.db, doubtful.map((c) => c[0]), trustDomains))) recounted.set(id, Number(n));
    }
    for (const c of candidates) {
      const n = counts.get(c[0]);
      const verified = c[2] === 1;
      out.set(c[0], {
        task_id: c[0], purpose: verified ? c[5] : '', root_human: verified ? c[4] : '', requested_at: verified ? c[3] : '',
        first_action: c[6], last_action: c[7],
        actions: Number(n?.[1] ?? 0), agents: Number(n?.[4] ?? 0),
        failed: recounted.get(c[0]) ?? Number(n?.[2] ?? 0), trust_domains: n?.[5] ?? [],
      });
    }
    return out;
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
        SELECT chain_hash, root_human, root_issued_at, purpose, delegator, chain_depth, chain_path, scopes_granted, chain_evidence
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
               scopes_used, resource, verdict, reasons, reason_details, chain_hash, peer_id
        FROM (
          SELECT trace_id, span_id, parent_span_id, ts, end_ts, name, operation, agent_id, agent_name, tool_name,
                 scopes_used, resource, verdict, reasons, reason_details, chain_hash, peer_id
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

  private async compact<T>(s: Statement): Promise<T[]> {
    const rs = await this.client.query({ query: s.query, query_params: s.params, format: 'JSONCompactEachRow' });
    return rs.json<T>();
  }

  private async rows<T>(query: string, query_params: Record<string, unknown>): Promise<T[]> {
    const rs = await this.client.query({ query, query_params, format: 'JSONEachRow' });
    return rs.json<T>();
  }
}
