import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { quotedEnd, splitStatements } from './sql-text.js';

/**
 * `single`: one server or chdb, plain tables. `replicated`: a ClickHouse
 * cluster, replicated local tables on every node behind Distributed tables
 * sharded by task. Every migration states both forms explicitly.
 */
export type TableLayout = 'single' | 'replicated';

/** Statements of one DDL unit in both layouts, still holding the `${db}` placeholder. */
export interface LayoutForms {
  single: string[];
  replicated: string[];
}

export interface Migration extends LayoutForms {
  version: number;
  /** The file's base name, e.g. `001_actions`. */
  name: string;
}

export interface Catalog {
  /** Database and ledger: applied before every migration, not recorded. */
  bootstrap: LayoutForms;
  /** In version order. */
  migrations: Migration[];
}

/** A DDL file by name and text: the catalog is built from these, not from the disk, so its rules are unit-testable. */
export interface DdlFile {
  file: string;
  text: string;
}

const MIGRATION = /^(\d{3,})_([a-z0-9_]+?)(\.cluster)?\.sql$/;
const BOOTSTRAP = /^bootstrap(\.cluster)?\.sql$/;

/**
 * Pairs `NNN_name.sql` (single) with `NNN_name.cluster.sql` (replicated).
 * Refuses a catalog it cannot trust: a form without its pair, two files with
 * one number, a statement that is not idempotent.
 */
export function buildCatalog(files: DdlFile[]): Catalog {
  const bootstrap: Partial<LayoutForms> = {};
  const byVersion = new Map<number, { name: string; single?: string[]; replicated?: string[] }>();
  for (const { file, text } of files) {
    const statements = splitStatements(text);
    const b = BOOTSTRAP.exec(file);
    if (b) {
      bootstrap[b[1] ? 'replicated' : 'single'] = statements;
      continue;
    }
    const m = MIGRATION.exec(file);
    if (!m) continue;
    const version = Number(m[1]);
    const name = `${m[1]}_${m[2]}`;
    const entry = byVersion.get(version) ?? { name };
    if (entry.name !== name) throw new Error(`two migrations numbered ${version}: ${entry.name} and ${name}`);
    const layout = m[3] ? 'replicated' : 'single';
    if (statements.length === 0) throw new Error(`migration file ${file} has no statements`);
    for (const s of statements) assertIdempotent(file, s, statements);
    entry[layout] = statements;
    byVersion.set(version, entry);
  }
  if (!bootstrap.single || !bootstrap.replicated) throw new Error('the DDL directory needs bootstrap.sql and bootstrap.cluster.sql');
  const migrations: Migration[] = [];
  for (const [version, e] of [...byVersion].sort((a, b) => a[0] - b[0])) {
    if (!e.single) throw new Error(`migration ${e.name} has a cluster form but no ${e.name}.sql`);
    if (!e.replicated) throw new Error(`migration ${e.name} has no cluster form: add ${e.name}.cluster.sql`);
    migrations.push({ version, name: e.name, single: e.single, replicated: e.replicated });
  }
  return { bootstrap: { single: bootstrap.single, replicated: bootstrap.replicated }, migrations };
}

/**
 * Several processors may apply one migration at the same moment, and a
 * process may die between a migration's statements and its ledger row, so
 * every statement (every clause of an ALTER) must converge when run twice:
 * IF [NOT] EXISTS, OR REPLACE, or a MODIFY that sets a value (TTL, setting,
 * comment, a view's query).
 */
const IDEMPOTENT = /\bIF\s+(NOT\s+)?EXISTS\b|^\s*CREATE\s+OR\s+REPLACE\b|^\s*MODIFY\s+(TTL|SETTING|COMMENT|QUERY)\b/i;

function assertIdempotent(file: string, statement: string, sameFile: string[]): void {
  const insert = /^\s*INSERT\s+INTO\s+(\S+)\s+SELECT\b/i.exec(statement);
  if (insert) {
    const why = convergentTarget(insert[1]!, sameFile);
    if (why) throw new Error(`${file}: INSERT … SELECT into ${insert[1]} is not idempotent: ${why}`);
    return;
  }
  const alter = /^\s*ALTER\s+TABLE\s+\S+(\s+ON\s+CLUSTER\s+\S+)?\s+/i.exec(statement);
  const clauses = alter ? topLevelCommaSplit(statement.slice(alter[0].length)) : [statement];
  for (const clause of clauses) {
    if (!IDEMPOTENT.test(clause)) {
      throw new Error(`${file}: statement is not idempotent (several processors may run it at once; use IF [NOT] EXISTS): ${clause.trim().slice(0, 80)}`);
    }
  }
}

/**
 * Aggregates that absorb a row counted twice: merging a state with itself
 * gives the same state. A backfill may write into a table whose every
 * non-key column is one of these, since running it again, or beside the
 * materialized view feeding the same table, changes no answer.
 */
const IDEMPOTENT_AGGREGATES = new Set(['min', 'max', 'uniqExact', 'uniqExactIf', 'groupUniqArray', 'groupUniqArrayIf', 'groupBitOr']);

/**
 * Why an INSERT … SELECT into `target` would not converge, or null when it
 * does: the table (or its `_local` table, behind a Distributed one) is created
 * in the same migration as an AggregatingMergeTree whose columns are either in
 * its ORDER BY or merged by an idempotent aggregate.
 */
function convergentTarget(target: string, sameFile: string[]): string | null {
  const names = [target, `${target}_local`];
  const create = sameFile.find((s) => {
    const m = /^\s*CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s+(\S+)/i.exec(s);
    return m && names.includes(m[1]!) && /\bENGINE\s*=\s*(Replicated)?AggregatingMergeTree\b/.test(s);
  });
  if (!create) return 'its target must be an AggregatingMergeTree created in the same migration';
  const open = create.indexOf('(');
  const close = create.search(/\)\s*ENGINE\b/);
  const key = /\bORDER\s+BY\s+\(([^)]*)\)/i.exec(create)?.[1]?.split(',').map((k) => k.trim()) ?? [];
  for (const column of topLevelCommaSplit(create.slice(open + 1, close))) {
    const [name, type = ''] = column.trim().split(/\s+(.*)/s);
    const aggregate = /^(Simple)?AggregateFunction\(\s*(\w+)/.exec(type);
    if (aggregate ? !IDEMPOTENT_AGGREGATES.has(aggregate[2]!) : !key.includes(name!)) {
      return `column ${name} is neither in the ORDER BY nor merged by an idempotent aggregate (${[...IDEMPOTENT_AGGREGATES].join(', ')})`;
    }
  }
  return null;
}

/** Splits at commas outside brackets and quotes: the actions of one ALTER. */
function topLevelCommaSplit(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "'" || ch === '"' || ch === '`') i = quotedEnd(text, i) - 1;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

/**
 * What the ledger records of a migration: SHA-256 over its statements for
 * one layout, comments and surrounding blank space excluded, so editing a
 * comment is not a change and editing a statement is.
 */
export function checksum(migration: Migration, layout: TableLayout): string {
  return createHash('sha256').update(migration[layout].join('\n;\n')).digest('hex');
}

/** Reads every DDL file of a directory into a catalog. */
export async function loadCatalog(dir: string): Promise<Catalog> {
  const names = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  return buildCatalog(await Promise.all(names.map(async (file) => ({ file, text: await readFile(join(dir, file), 'utf8') }))));
}
