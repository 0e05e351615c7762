import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { openClient, type StoreConfig } from '../../src/store/client.js';
import { migrate } from '../../src/store/migrate.js';

/**
 * chdb binds one data directory per process, so every test file shares one
 * directory and isolates its tests by database instead. With CLICKHOUSE_URL
 * set the same tests run against that server.
 */
let dataDir: string | undefined;
let counter = 0;

export function testStoreConfig(): StoreConfig {
  const database = `cs_test_${process.pid}_${++counter}`;
  if (process.env.CLICKHOUSE_URL) return { database, target: { kind: 'server', url: process.env.CLICKHOUSE_URL } };
  dataDir ??= mkdtempSync(join(tmpdir(), 'chainsight-test-'));
  return { database, target: { kind: 'embedded', dataDir } };
}

export interface TestStore {
  config: StoreConfig;
  writer: ClickHouseClient;
  reader: ClickHouseClient;
  close(): Promise<void>;
}

export async function openTestStore(): Promise<TestStore> {
  const config = testStoreConfig();
  const writer = openClient(config);
  const reader = openClient(config);
  await migrate(writer, config.database);
  return {
    config, writer, reader,
    async close() {
      await writer.command({ query: `DROP DATABASE IF EXISTS ${config.database}` }).catch(() => undefined);
      await writer.close();
      await reader.close();
    },
  };
}

process.on('exit', () => {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});
