import { hostname } from 'node:os';
import type { ClickHouseClient } from '@clickhouse/client';
import { checksum, type Migration, type TableLayout } from './catalog.js';
import type { LedgerRow } from './plan.js';

/** The ledger of applied migrations, created by bootstrap.sql. */
export const LEDGER_TABLE = 'schema_migrations';

/**
 * Every version recorded, one row each. FINAL folds the rows concurrent
 * appliers wrote for one version before any merge has; the table is tiny.
 */
export async function readLedger(client: ClickHouseClient, database: string): Promise<LedgerRow[]> {
  try {
    const rs = await client.query({
      query: `SELECT version, name, checksum, layout, applied_at, applied_by FROM ${database}.${LEDGER_TABLE} FINAL ORDER BY version`,
      format: 'JSONEachRow',
    });
    return (await rs.json<LedgerRow>()).map((r) => ({ ...r, version: Number(r.version) }));
  } catch (err) {
    // Most likely another tool's table of the same name: say which table, not only ClickHouse's words.
    throw new Error(`cannot read the migration ledger ${database}.${LEDGER_TABLE}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** Who applied a migration, for the operator reading the ledger. */
export const APPLIER = `${hostname()} pid ${process.pid}`;

export async function recordApplied(client: ClickHouseClient, database: string, m: Migration, layout: TableLayout, appliedBy = APPLIER): Promise<void> {
  await client.insert({
    table: `${database}.${LEDGER_TABLE}`,
    format: 'JSONEachRow',
    values: [{ version: m.version, name: m.name, checksum: checksum(m, layout), layout, applied_at: Date.now(), applied_by: appliedBy }],
  });
}
