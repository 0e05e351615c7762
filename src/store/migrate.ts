import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import { assertIdentifier } from './client.js';

/** schemas/clickhouse, relative to this module in both src/ and dist/. */
export const DDL_DIR = fileURLToPath(new URL('../../schemas/clickhouse/', import.meta.url));

/**
 * `single`: the DDL as written, plain ReplacingMergeTree tables (chdb, one server).
 * `replicated`: the same columns as replicated `<table>_local` tables on every
 * node of the {cluster} macro's cluster, behind Distributed tables of the
 * original names sharded by task — one task's rows, and every re-delivered
 * copy of a span, land on one shard, where merges and LIMIT 1 BY fold them.
 */
export type TableLayout = 'single' | 'replicated';

const CREATE = /^CREATE TABLE IF NOT EXISTS (\w+)\.(\w+)\s*\n/;
const ENGINE = /ENGINE = ReplacingMergeTree(?:\(([^)]*)\))?/;

/** One CREATE TABLE of the single layout as its cluster pair: replicated local table, then Distributed. */
export function toClusterLayout(statement: string): string[] {
  const m = CREATE.exec(statement);
  const e = ENGINE.exec(statement);
  if (!m || !e) throw new Error(`cannot derive a cluster layout from: ${statement.slice(0, 80)}`);
  const [, db, table] = m;
  const local = `${table}_local`;
  const version = e[1] ? `, ${e[1]}` : '';
  const replicated = statement
    .replace(CREATE, `CREATE TABLE IF NOT EXISTS ${db}.${local} ON CLUSTER '{cluster}'\n`)
    .replace(ENGINE, `ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/${local}', '{replica}'${version})`);
  const distributed = `CREATE TABLE IF NOT EXISTS ${db}.${table} ON CLUSTER '{cluster}' AS ${db}.${local}\nENGINE = Distributed('{cluster}', ${db}, ${local}, cityHash64(task_id))`;
  return [replicated, distributed];
}

/** Statements of one DDL file for a database and layout. */
export function renderDdl(sql: string, database: string, layout: TableLayout = 'single'): string[] {
  const db = assertIdentifier(database);
  const statements = sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => s.replaceAll('${db}', db));
  return layout === 'replicated' ? statements.flatMap(toClusterLayout) : statements;
}

async function ddlFiles(): Promise<string[]> {
  return (await readdir(DDL_DIR)).filter((f) => /^\d+_.*\.sql$/.test(f)).sort();
}

/** Every statement migrate() would run, in order: for review or for applying by hand. */
export async function allStatements(database: string, layout: TableLayout = 'single'): Promise<string[]> {
  const onCluster = layout === 'replicated' ? " ON CLUSTER '{cluster}'" : '';
  const out = [`CREATE DATABASE IF NOT EXISTS ${assertIdentifier(database)}${onCluster}`];
  for (const file of await ddlFiles()) out.push(...renderDdl(await readFile(DDL_DIR + file, 'utf8'), database, layout));
  return out;
}

/**
 * Applies every numbered DDL file in order. Each statement is CREATE … IF NOT
 * EXISTS, so running it at every start is safe.
 */
export async function migrate(client: ClickHouseClient, database: string, layout: TableLayout = 'single'): Promise<string[]> {
  for (const statement of await allStatements(database, layout)) await client.command({ query: statement });
  return ddlFiles();
}
