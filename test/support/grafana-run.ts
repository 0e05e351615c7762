/** Runs a dashboard query the way Grafana would send it, and judges what comes back. */
import type { ClickHouseClient } from '@clickhouse/client';
import { expandQuery, type QueryContext } from './grafana-macros.js';
import { checkShape, type PanelQuery, type QueryResult, type ShapeVerdict } from './grafana-panels.js';

export interface QueryRun extends ShapeVerdict {
  sql?: string;
  result?: QueryResult;
}

export async function runPanelQuery(client: ClickHouseClient, q: PanelQuery, ctx: QueryContext, requireRows: boolean): Promise<QueryRun> {
  let sql: string;
  try {
    sql = expandQuery(q.rawSql, ctx);
  } catch (err) {
    return { ok: false, problems: [`expansion failed: ${(err as Error).message}`] };
  }
  let result: QueryResult;
  try {
    const rs = await client.query({ query: sql, format: 'JSONCompact' });
    const json = await rs.json<unknown[]>();
    result = { meta: json.meta ?? [], data: json.data };
  } catch (err) {
    return { ok: false, sql, problems: [`ClickHouse refused it: ${(err as Error).message.split('\n')[0]}`] };
  }
  return { ...checkShape(q, result, requireRows), sql, result };
}
