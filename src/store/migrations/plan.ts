import { checksum, type Migration, type TableLayout } from './catalog.js';

/** One row of the ledger, `${db}.schema_migrations`. */
export interface LedgerRow {
  version: number;
  name: string;
  checksum: string;
  layout: string;
  applied_at: string;
  applied_by: string;
}

/** Why this binary must not run against this database. */
export type SchemaProblem =
  | { kind: 'changed'; migration: string; recorded: string; expected: string }
  | { kind: 'layout'; migration: string; recorded: string; expected: TableLayout }
  | { kind: 'unknown'; row: LedgerRow };

export type SchemaPlan =
  | { kind: 'ready'; applied: Migration[]; pending: Migration[] }
  | { kind: 'refused'; problems: SchemaProblem[] };

/**
 * Compares the ledger with the migrations this binary ships. Pure. Refuses
 * (fails closed) when an applied migration's statements changed since, when it
 * was applied for another layout, or when the ledger holds a version this
 * binary does not know: the database has a newer schema.
 */
export function planMigrations(migrations: Migration[], ledger: LedgerRow[], layout: TableLayout): SchemaPlan {
  const recorded = new Map(ledger.map((r) => [r.version, r]));
  const known = new Set(migrations.map((m) => m.version));
  const problems: SchemaProblem[] = [];
  const applied: Migration[] = [];
  const pending: Migration[] = [];
  for (const m of migrations) {
    const row = recorded.get(m.version);
    if (!row) {
      pending.push(m);
      continue;
    }
    applied.push(m);
    if (row.layout !== layout) problems.push({ kind: 'layout', migration: m.name, recorded: row.layout, expected: layout });
    else if (row.checksum !== checksum(m, layout)) problems.push({ kind: 'changed', migration: m.name, recorded: row.checksum, expected: checksum(m, layout) });
  }
  for (const row of ledger) if (!known.has(row.version)) problems.push({ kind: 'unknown', row });
  return problems.length > 0 ? { kind: 'refused', problems } : { kind: 'ready', applied, pending };
}

export function describeProblem(p: SchemaProblem): string {
  switch (p.kind) {
    case 'changed':
      return `migration ${p.migration} changed after it was applied (ledger checksum ${p.recorded.slice(0, 12)}…, file ${p.expected.slice(0, 12)}…): applied migrations must not be edited; add a new one`;
    case 'layout':
      return `migration ${p.migration} was applied for the ${p.recorded} layout, this process runs ${p.expected}`;
    case 'unknown':
      return `the database has a newer schema: migration ${p.row.name} (version ${p.row.version}, applied ${p.row.applied_at} by ${p.row.applied_by}) is unknown to this version of chainsight; run a version that ships it`;
  }
}

/** Start-up stops with this: the schema and the binary disagree. */
export class SchemaMismatchError extends Error {
  constructor(readonly database: string, readonly problems: SchemaProblem[]) {
    super(`refusing to start on database ${database}: ${problems.map(describeProblem).join('; ')}`);
    this.name = 'SchemaMismatchError';
  }
}
