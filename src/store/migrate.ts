import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import { assertIdentifier } from './client.js';
import { loadCatalog, type Catalog, type TableLayout } from './migrations/catalog.js';
import { readLedger, recordApplied } from './migrations/ledger.js';
import { planMigrations, SchemaMismatchError } from './migrations/plan.js';
import { forDatabase } from './migrations/sql-text.js';

export type { TableLayout } from './migrations/catalog.js';

/** schemas/clickhouse, relative to this module in both src/ and dist/. */
export const DDL_DIR = fileURLToPath(new URL('../../schemas/clickhouse/', import.meta.url));

export interface MigrationReport {
  /** Migrations this call applied, by name, in order. */
  applied: string[];
  /** Migrations the ledger already recorded. */
  alreadyApplied: string[];
}

/**
 * Brings a database to the schema this binary ships: bootstrap (database and
 * ledger), then every migration the ledger does not record, in version order,
 * each recorded once its statements ran. Throws SchemaMismatchError, before
 * running anything, when the ledger shows an edited migration or a newer schema.
 *
 * Safe when several processes start at once without a lock: every statement
 * is idempotent (the catalog refuses any that is not), so two appliers running
 * the same migration converge, and their two ledger rows fold into one (see
 * bootstrap.sql). A process that dies mid-migration leaves it unrecorded, and
 * the next start runs it again from its first statement.
 */
export async function migrate(
  client: ClickHouseClient,
  database: string,
  layout: TableLayout = 'single',
  catalog?: Catalog,
): Promise<MigrationReport> {
  const db = assertIdentifier(database);
  const { bootstrap, migrations } = catalog ?? (await loadCatalog(DDL_DIR));
  for (const s of bootstrap[layout]) await client.command({ query: forDatabase(s, db) });
  const plan = planMigrations(migrations, await readLedger(client, db), layout);
  if (plan.kind === 'refused') throw new SchemaMismatchError(db, plan.problems);
  for (const m of plan.pending) {
    for (const s of m[layout]) await client.command({ query: forDatabase(s, db) });
    await recordApplied(client, db, m, layout);
  }
  return { applied: plan.pending.map((m) => m.name), alreadyApplied: plan.applied.map((m) => m.name) };
}

/** A statement of `allStatements`, with the migration it belongs to (none for the bootstrap). */
export interface LabelledStatement {
  migration: string | null;
  sql: string;
}

/** Every statement `migrate` may run, in order, for review or for applying by hand: all are idempotent. */
export async function allStatements(database: string, layout: TableLayout = 'single', catalog?: Catalog): Promise<LabelledStatement[]> {
  const db = assertIdentifier(database);
  const { bootstrap, migrations } = catalog ?? (await loadCatalog(DDL_DIR));
  const out: LabelledStatement[] = bootstrap[layout].map((s) => ({ migration: null, sql: forDatabase(s, db) }));
  for (const m of migrations) for (const s of m[layout]) out.push({ migration: m.name, sql: forDatabase(s, db) });
  return out;
}
