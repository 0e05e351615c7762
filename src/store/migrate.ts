import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import { assertIdentifier } from './client.js';

/** schemas/clickhouse, relative to this module in both src/ and dist/. */
export const DDL_DIR = fileURLToPath(new URL('../../schemas/clickhouse/', import.meta.url));

/**
 * `single`: plain ReplacingMergeTree tables (chdb, one server).
 * `replicated`: replicated local tables plus Distributed tables sharded by
 * task on the cluster named by the servers' {cluster} macro.
 */
export type TableLayout = 'single' | 'replicated';

export function ddlDir(layout: TableLayout): string {
  return layout === 'replicated' ? DDL_DIR + 'replicated/' : DDL_DIR;
}

/** Statements of one DDL file, with the database substituted. */
export function renderDdl(sql: string, database: string): string[] {
  const db = assertIdentifier(database);
  const withoutComments = sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n');
  return withoutComments
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => s.replaceAll('${db}', db));
}

/**
 * Applies every numbered DDL file in order. Each statement is CREATE … IF NOT
 * EXISTS, so running it at every start is safe.
 */
export async function migrate(client: ClickHouseClient, database: string, layout: TableLayout = 'single'): Promise<string[]> {
  const dir = ddlDir(layout);
  const files = (await readdir(dir)).filter((f) => /^\d+_.*\.sql$/.test(f)).sort();
  const onCluster = layout === 'replicated' ? " ON CLUSTER '{cluster}'" : '';
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${assertIdentifier(database)}${onCluster}` });
  for (const file of files) {
    for (const statement of renderDdl(await readFile(dir + file, 'utf8'), database)) {
      await client.command({ query: statement });
    }
  }
  return files;
}
