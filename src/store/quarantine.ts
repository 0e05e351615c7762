import type { ClickHouseClient } from '@clickhouse/client';

/** One row of the quarantine table (schemas/clickhouse/003_quarantine.sql). */
export interface QuarantineRow {
  received_at: number; // unix ms
  source: string;
  table_name: string;
  error_code: string;
  error: string;
  trace_id: string;
  span_id: string;
  task_id: string;
  /** The refused row as JSON. */
  row: string;
}

/** Bounds on what a quarantine row copies: the refused row may be the oversized value it was refused for. */
const MAX_ERROR_CHARS = 2000;
const MAX_ROW_CHARS = 1 << 20;
const MAX_ID_CHARS = 256;

/** A refused row as its quarantine row. Pure. */
export function toQuarantineRow(refused: { kind: string; row: unknown; error: { code: string; message: string } }, source: string, nowMs: number): QuarantineRow {
  let json = JSON.stringify(refused.row) ?? 'null';
  if (json.length > MAX_ROW_CHARS) json = json.slice(0, MAX_ROW_CHARS) + '…(truncated)';
  const r = (typeof refused.row === 'object' && refused.row !== null ? refused.row : {}) as Record<string, unknown>;
  return {
    received_at: nowMs,
    source,
    table_name: refused.kind,
    error_code: refused.error.code,
    error: wellFormed(refused.error.message.slice(0, MAX_ERROR_CHARS)),
    trace_id: idOf(r.trace_id),
    span_id: idOf(r.span_id),
    task_id: idOf(r.task_id),
    row: json,
  };
}

function idOf(v: unknown): string {
  return typeof v === 'string' ? wellFormed(v.slice(0, MAX_ID_CHARS)) : '';
}

/** Lone UTF-16 surrogates replaced (String.prototype.toWellFormed, Node 20). */
function wellFormed(s: string): string {
  return (s as unknown as { toWellFormed(): string }).toWellFormed();
}

export interface QuarantineFilter {
  taskId?: string;
  traceId?: string;
  /** received_at range, unix ms. */
  fromMs?: number;
  toMs?: number;
  limit?: number;
  /** Keyset position: rows strictly after this one in the list's order (newest first). */
  before?: { receivedAt: string; traceId: string; spanId: string; table: string };
}

/** Quarantined rows, newest first. Every filter value is a query parameter. */
export async function findQuarantined(client: ClickHouseClient, database: string, filter: QuarantineFilter = {}): Promise<QuarantineRow[]> {
  const where: string[] = [];
  const params: Record<string, unknown> = { limit: Math.max(1, Math.min(filter.limit ?? 100, 10_000)) };
  if (filter.taskId !== undefined) {
    where.push('task_id = {task:String}');
    params.task = filter.taskId;
  }
  if (filter.traceId !== undefined) {
    where.push('trace_id = {trace:String}');
    params.trace = filter.traceId;
  }
  if (filter.fromMs !== undefined) {
    where.push('received_at >= fromUnixTimestamp64Milli({from:Int64})');
    params.from = filter.fromMs;
  }
  if (filter.toMs !== undefined) {
    where.push('received_at < fromUnixTimestamp64Milli({to:Int64})');
    params.to = filter.toMs;
  }
  if (filter.before !== undefined) {
    where.push('(toUnixTimestamp64Milli(received_at), trace_id, span_id, table_name) < ({bms:Int64}, {btrace:String}, {bspan:String}, {btable:String})');
    params.bms = filter.before.receivedAt;
    params.btrace = filter.before.traceId;
    params.bspan = filter.before.spanId;
    params.btable = filter.before.table;
  }
  const rs = await client.query({
    query: `SELECT toUnixTimestamp64Milli(received_at) AS received_ms, source, table_name, error_code, error, trace_id, span_id, task_id, row
            FROM ${database}.quarantine ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
            ORDER BY received_ms DESC, trace_id DESC, span_id DESC, table_name DESC LIMIT {limit:UInt32}`,
    query_params: params,
    format: 'JSONEachRow',
  });
  const rows = await rs.json<Omit<QuarantineRow, 'received_at'> & { received_ms: number | string }>();
  return rows.map(({ received_ms, ...r }) => ({ ...r, received_at: Number(received_ms) }));
}
