/**
 * Reading the task order index (schemas/clickhouse/014_task_search_index.sql):
 * windows of (task, sort key) rows, newest first, from which the task list
 * takes its candidates without touching the tasks outside the page. Pure:
 * statement text from trusted identifiers, values as parameters.
 *
 * A window read from `ceiling` down, cut after `size` rows at sort key
 * `floor`, holds a row at the true position of every task whose merged sort
 * key lies in (floor, ceiling] (each task has one there: see the migration);
 * other rows of the window are stale and drop out when the candidates'
 * summaries are merged and checked against those bounds. A window shorter
 * than `size` reached the end of the index: its floor is unbounded.
 */
import { keyedFilters, type CandidateFilter, type Statement } from './task-summary-query.js';

export type OrderRow = [task_id: string, sort_ms: string];

/**
 * A window of the order index, restricted to the caller's trust domains and
 * to the tasks the filter's keys name (human, agent, failed: task_keys), so a
 * keyed search also merges only about a page of tasks.
 */
export function orderWindowStatement(db: string, f: CandidateFilter, ceilingMs: number | null, size: number): Statement {
  const params: Record<string, unknown> = { size };
  const where = keyedFilters(db, f, params);
  const trustDomains = f.trustDomains;
  if (ceilingMs !== null) {
    where.push('sort_ms <= {ceiling:Int64}');
    params.ceiling = ceilingMs;
  }
  if (trustDomains !== undefined) {
    where.push('trust_domain IN {tds:Array(String)}');
    params.tds = trustDomains;
  }
  // Both keys descending: the table's order read backwards, so the engine stops after `size` rows.
  const query = `
    SELECT task_id, sort_ms FROM ${db}.task_order
    ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
    ORDER BY sort_ms DESC, task_id DESC
    LIMIT {size:UInt32}`;
  return { query, params };
}

/** Where a window ends: the next window's ceiling and this one's exclusive floor; null when the index is exhausted. */
export function windowFloor(rows: OrderRow[], size: number): number | null {
  return rows.length < size ? null : Number(rows[rows.length - 1]![1]);
}
