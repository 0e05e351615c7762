import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import { assertIdentifier } from './client.js';

/** schemas/clickhouse, relative to this module in both src/ and dist/. */
export const DDL_DIR = fileURLToPath(new URL('../../schemas/clickhouse/', import.meta.url));

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
export async function migrate(client: ClickHouseClient, database: string, dir = DDL_DIR): Promise<string[]> {
  const files = (await readdir(dir)).filter((f) => /^\d+_.*\.sql$/.test(f)).sort();
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${assertIdentifier(database)}` });
  for (const file of files) {
    for (const statement of renderDdl(await readFile(dir + file, 'utf8'), database)) {
      await client.command({ query: statement });
    }
  }
  return files;
}
