import { createRequire } from 'node:module';
import { createClient, type ClickHouseClient } from '@clickhouse/client';

type ClientOptions = NonNullable<Parameters<typeof createClient>[0]>;
type Connection = ClientOptions['connection'];

/** Where the data lives: chdb in-process (default) or a ClickHouse server. */
export type StoreTarget =
  | { kind: 'embedded'; dataDir: string }
  | { kind: 'server'; url: string; username?: string; password?: string };

export interface StoreConfig {
  target: StoreTarget;
  /** Database that holds chainsight's tables. Trusted configuration, validated as an identifier. */
  database: string;
  /** Table layout on a server: `replicated` for a ClickHouse cluster (see schemas/clickhouse/replicated). */
  layout?: 'single' | 'replicated';
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export function assertIdentifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`invalid ClickHouse database name: ${JSON.stringify(name)}`);
  return name;
}

/**
 * Settings sent with every query. chdb makes per-query settings stick to the
 * connection and leaves 64-bit integers unquoted, so both backends get the
 * same explicit values and return the same JSON types.
 */
export const COMMON_SETTINGS = {
  output_format_json_quote_64bit_integers: 1,
  date_time_output_format: 'iso',
  async_insert: 0,
} as const;

/**
 * Opens a client. Each purpose (writes, analyst queries) should get its own:
 * chdb runs one query at a time per connection, and a slow analyst query must
 * not hold up the write path.
 */
export function openClient(config: StoreConfig): ClickHouseClient {
  const { target } = config;
  if (target.kind === 'server') {
    return createClient({
      url: target.url,
      username: target.username ?? 'default',
      password: target.password ?? '',
      clickhouse_settings: { ...COMMON_SETTINGS },
      compression: { request: false, response: false },
    });
  }
  // Loaded lazily: server deployments never load the 500 MB engine.
  const require = createRequire(import.meta.url);
  const { createChdbConnection } = require('chdb/connection') as {
    createChdbConnection(opts: { path: string }): unknown;
  };
  return createClient({
    connection: createChdbConnection({ path: target.dataDir }) as Connection,
    clickhouse_settings: { ...COMMON_SETTINGS },
  });
}
