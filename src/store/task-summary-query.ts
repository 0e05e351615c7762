/**
 * SQL of the task list over the task_summary table (schemas/clickhouse/
 * 004_task_summary.sql). Pure: builds statement text from trusted identifiers
 * and puts every value in query parameters.
 *
 * A page is found in two steps, so that its cost follows the page and the
 * tasks matching, never the number of actions:
 *  1. candidates: the tasks a filter names, found by primary key in task_keys
 *     (human, agent, failed verdict: migration 014), or in a window of the
 *     order index (no filter: task-search-index.ts), or, for a time range
 *     alone, picked from every unmerged task_page row's times; their cheap
 *     columns (times, origin, verdict flags), kept apart from the span sets
 *     in task_page (migration 016), merged per task, checked again, ordered
 *     and cut after the cursor;
 *  2. counts for the page's tasks only: distinct spans and failed spans from
 *     the summary's states, and, for a task where a span judged failed may
 *     since have been judged verified, the failed count from actions (the
 *     newest verdict per span), which also settles a verdict filter.
 */
import type { TaskCursor } from './task-summary-cursor.js';

/** Filters step 1 understands; values travel as parameters. */
export interface CandidateFilter {
  fromMs?: number;
  toMs?: number;
  human?: string;
  agent?: string;
  verdict?: 'verified' | 'failed';
  /** Tasks an alert was raised on: of any kind ('any'), or of this kind. */
  alert?: string;
  trustDomains?: string[];
  /** Only these tasks (a window of the order index: task-search-index.ts). */
  ids?: string[];
  /** Only tasks sorting after (exclusive) or at or before (inclusive) these keys: a window's bounds. */
  floorMs?: number;
  ceilingMs?: number;
}

/**
 * How step 1 finds the tasks a human, agent or failed-verdict filter names:
 * `keys` looks them up by primary key in task_keys (migration 014), so it
 * reads only the matching tasks, and merges their page columns from
 * task_page (migration 016); `keys-wide` does the same but merges them from
 * task_summary and looks a window's keys up again (the list before 016);
 * `summary` finds them in every summary row (before 014). The last two are
 * kept for the side-by-side benchmark and the equivalence test.
 */
export type CandidateLookup = 'keys' | 'keys-wide' | 'summary';

export interface Statement {
  query: string;
  params: Record<string, unknown>;
}

/** A task's trust domain, from its agent's SPIFFE ID; the same expression as the view's. */
export const TRUST_DOMAIN_OF_AGENT = "extract(agent_id, '^spiffe://([^/]+)')";

/** One candidate: enough to order, page and decide whether counts need actions. */
export type CandidateRow = [
  task_id: string,
  sort_ms: string,
  verified_origin: number,
  requested_at: string,
  root_human: string,
  purpose: string,
  first_action: string,
  last_action: string,
  maybe_reinstated: number,
];

export function candidatesStatement(db: string, f: CandidateFilter, after: TaskCursor | null, limit: number, lookup: CandidateLookup = 'keys'): Statement {
  const params: Record<string, unknown> = { limit };
  const where: string[] = [];
  const having: string[] = [];
  const sets: string[] = [];
  // Each filter holds for a task exactly when it holds for one of the task's
  // partial rows (min, max and set union distribute that way), so it first
  // picks task IDs from unmerged rows, one column each, and only those tasks
  // are merged; the HAVING clause then checks it on the merged row.
  const exists: string[] = [];
  if (f.trustDomains !== undefined) {
    where.push('trust_domain IN {tds:Array(String)}');
    params.tds = f.trustDomains;
  }
  // A task matches a time range when its activity, first action to last, meets it.
  if (f.fromMs !== undefined) {
    exists.push('last_action >= fromUnixTimestamp64Milli({from:Int64})');
    having.push('la >= fromUnixTimestamp64Milli({from:Int64})');
    params.from = f.fromMs;
  }
  if (f.toMs !== undefined) {
    exists.push('first_action < fromUnixTimestamp64Milli({to:Int64})');
    having.push('fa < fromUnixTimestamp64Milli({to:Int64})');
    params.to = f.toMs;
  }
  // A window's ids were already restricted by the filter's keys (task-search-index.ts): looking them up again is redundant.
  const keyed = lookup === 'summary'
    ? keyedFilters(db, { ...(f.alert !== undefined ? { alert: f.alert } : {}), ...(f.trustDomains ? { trustDomains: f.trustDomains } : {}) }, params)
    : f.ids === undefined || lookup === 'keys-wide' ? keyedFilters(db, f, params) : [];
  if (lookup === 'summary' && f.human !== undefined) {
    params.human = f.human;
    exists.push('has(finalizeAggregation(humans), {human:String})');
    sets.push('groupUniqArrayIfMerge(humans) AS hs');
    having.push('has(hs, {human:String})');
  }
  if (lookup === 'summary' && f.agent !== undefined) {
    params.agent = f.agent;
    exists.push('has(finalizeAggregation(agent_ids), {agent:String})');
    sets.push('groupUniqArrayMerge(agent_ids) AS ags');
    having.push('has(ags, {agent:String})');
  }
  // Supersets, settled exactly in step 2 for the tasks that may have a span reinstated.
  if (f.verdict === 'failed') {
    if (lookup === 'summary') exists.push('first_failed_at IS NOT NULL');
    having.push('ffa IS NOT NULL');
  }
  if (f.ids !== undefined) {
    where.push('task_id IN {ids:Array(String)}');
    params.ids = f.ids;
  }
  if (f.floorMs !== undefined) {
    having.push('sort_ms > {floor_ms:Int64}');
    params.floor_ms = f.floorMs;
  }
  if (f.ceilingMs !== undefined) {
    having.push('sort_ms <= {ceiling_ms:Int64}');
    params.ceiling_ms = f.ceilingMs;
  }
  if (f.verdict === 'verified') having.push('(ffa IS NULL OR maybe_reinstated)');
  const scope = f.trustDomains !== undefined ? ' AND trust_domain IN {tds:Array(String)}' : '';
  // Key lookups are exact and read only the matching tasks; a time range's scan of every row is needed only without one.
  where.push(...keyed);
  // The page's columns alone (migration 016), unless the set columns are asked for (the summary-only baseline).
  const table = lookup === 'keys' ? `${db}.task_page` : `${db}.task_summary`;
  for (const e of keyed.length > 0 || f.ids !== undefined ? [] : exists) {
    where.push(`task_id IN (SELECT task_id FROM ${table} WHERE ${e}${scope})`);
  }
  if (after) {
    having.push('(sort_ms < {after_ms:Int64} OR (sort_ms = {after_ms:Int64} AND task_id > {after_task:String}))');
    params.after_ms = after.sortMs;
    params.after_task = after.taskId;
  }
  const query = `
    SELECT task_id, sort_ms, o.1 = 0 AS verified_origin, o.2 AS requested_at, o.3 AS root_human, o.4 AS purpose,
           fa AS first_action, la AS last_action, maybe_reinstated
    FROM (
      SELECT task_id,
             min(first_action) AS fa,
             max(last_action) AS la,
             min(origin) AS o,
             if(o.1 = 0, toUnixTimestamp64Milli(o.2), toUnixTimestamp64Milli(fa)) AS sort_ms,
             min(first_failed_at) AS ffa,
             ffa IS NOT NULL AND max(last_verified_at) > ffa AS maybe_reinstated
             ${sets.map((s) => ', ' + s).join('')}
      FROM ${table}
      ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
      GROUP BY task_id
      ${having.length ? 'HAVING ' + having.join(' AND ') : ''}
    )
    ORDER BY sort_ms DESC, task_id ASC
    LIMIT {limit:UInt32}`;
  return { query, params };
}

/**
 * `task_id IN (…)` conditions for the filters task_keys answers exactly
 * (human, agent, a span judged failed), each a primary-key range of it; their
 * values go into `params`. Empty when the filter names none of them.
 */
export function keyedFilters(db: string, f: CandidateFilter, params: Record<string, unknown>): string[] {
  const keyed: string[] = [];
  if (f.trustDomains !== undefined) params.tds = f.trustDomains;
  if (f.human !== undefined) {
    params.human = f.human;
    keyed.push(keyedTasks(db, 'human', '{human:String}', f.trustDomains));
  }
  if (f.agent !== undefined) {
    params.agent = f.agent;
    keyed.push(keyedTasks(db, 'agent', '{agent:String}', f.trustDomains));
  }
  if (f.verdict === 'failed') keyed.push(keyedTasks(db, 'failed', "''", f.trustDomains));
  if (f.alert !== undefined) {
    // task_keys rows of kind 'alert' are keyed by the alert's kind (migration 015).
    if (f.alert === 'any') keyed.push(keyedTasks(db, 'alert', null, f.trustDomains));
    else {
      params.alert = f.alert;
      keyed.push(keyedTasks(db, 'alert', '{alert:String}', f.trustDomains));
    }
  }
  return keyed.map((k) => `task_id IN (${k})`);
}

/** The tasks with one key (a human, an agent, a failed span) in task_keys, within the trust domains when given. */
function keyedTasks(db: string, kind: 'human' | 'agent' | 'failed' | 'alert', key: string | null, trustDomains: string[] | undefined): string {
  // key null: any key of the kind (a prefix of the primary key all the same).
  return `SELECT task_id FROM ${db}.task_keys WHERE kind = '${kind}'${key === null ? '' : ` AND key = ${key}`}${trustDomains !== undefined ? ' AND trust_domain IN {tds:Array(String)}' : ''}`;
}

export type CountRow = [task_id: string, spans: string, failed: string, verified: string, agents: string, trust_domains: string[]];

/**
 * Step 2: counts of the given tasks from the summary's states, a primary-key
 * read of those tasks. spans is the union of the failed and verified span
 * sets (one state column read as two rows of one type), so
 * failed + verified - spans is how many spans have been judged both ways.
 */
export function countsStatement(db: string, ids: string[], trustDomains: string[] | undefined): Statement {
  const params: Record<string, unknown> = { ids };
  if (trustDomains !== undefined) params.tds = trustDomains;
  const query = `
    SELECT task_id, uniqExactIfMerge(judged), uniqExactIfMergeIf(judged, kind = 0), uniqExactIfMergeIf(judged, kind = 1),
           length(groupUniqArrayMerge(agent_ids)), arraySort(groupUniqArray(trust_domain))
    FROM (
      SELECT task_id, trust_domain, agent_ids, arrayJoin([(0, failed_spans), (1, verified_spans)]) AS pair,
             pair.1 AS kind, pair.2 AS judged
      FROM ${db}.task_summary
      WHERE task_id IN {ids:Array(String)} ${trustDomains !== undefined ? 'AND trust_domain IN {tds:Array(String)}' : ''}
    )
    GROUP BY task_id`;
  return { query, params };
}

export type RecountRow = [task_id: string, failed: string];

/**
 * Step 2 for tasks where a span was judged both ways and a verified
 * judgement may be the newer: the failed count from each span's newest row in actions, read by
 * primary key for those tasks only.
 */
export function failedRecountStatement(db: string, ids: string[], trustDomains: string[] | undefined): Statement {
  const params: Record<string, unknown> = { ids };
  if (trustDomains !== undefined) params.tds = trustDomains;
  const query = `
    SELECT task_id, countIf(v = 'failed')
    FROM (
      SELECT task_id, argMax(verdict, received_at) AS v
      FROM ${db}.actions
      WHERE task_id IN {ids:Array(String)} ${trustDomains !== undefined ? `AND ${TRUST_DOMAIN_OF_AGENT} IN {tds:Array(String)}` : ''}
      GROUP BY task_id, trace_id, span_id
    )
    GROUP BY task_id`;
  return { query, params };
}
