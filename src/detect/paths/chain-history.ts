/**
 * The verified chains the store already holds: what a detector's baseline
 * is rebuilt from at start, so a restart or a new processor does not
 * relearn from nothing. One bounded aggregate over `actions`, parameters
 * only. Only verified rows count (a failed chain never teaches).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { assertIdentifier } from '../../store/client.js';
import type { DetectorContext } from '../detector.js';

/** One distinct chain path with the first and last time a verified action used it. */
export interface ChainSighting {
  path: string[];
  firstMs: number;
  lastMs: number;
}

/** A tenant (the root agent's trust domain) with its first and last verified action in the window. */
export interface TenantSighting {
  tenant: string;
  firstMs: number;
  lastMs: number;
}

export interface ChainHistory {
  chains: ChainSighting[];
  tenants: TenantSighting[];
  /** True when `limit` cut the chains short (the oldest were left out). */
  truncated: boolean;
}

/**
 * Verified chain paths judged since `sinceMs`, newest first, at most `limit`;
 * and per tenant the first and last verified action in the same window.
 * A span re-judged later (revoked) keeps its earlier verified row until the
 * engine merges it away: the baseline may count such a chain, which only
 * costs an alert on a chain that verification already failed.
 */
export async function readChainHistory(client: ClickHouseClient, database: string, sinceMs: number, limit: number): Promise<ChainHistory> {
  const db = assertIdentifier(database);
  const params = { since: Math.max(0, Math.floor(sinceMs)), limit: limit + 1 };
  const where = `verdict = 'verified' AND chain_depth > 0 AND received_at >= fromUnixTimestamp64Milli({since:Int64})`;
  const chainsRs = await client.query({
    query: `SELECT chain_path AS path, toUnixTimestamp64Milli(min(received_at)) AS first_ms, toUnixTimestamp64Milli(max(received_at)) AS last_ms
            FROM ${db}.actions WHERE ${where}
            GROUP BY chain_path ORDER BY last_ms DESC LIMIT {limit:UInt32}`,
    query_params: params,
    format: 'JSONEachRow',
  });
  const rows = await chainsRs.json<{ path: string[]; first_ms: string | number; last_ms: string | number }>();
  const tenantsRs = await client.query({
    query: `SELECT extract(chain_path[2], '^spiffe://([^/]+)/') AS tenant,
                   toUnixTimestamp64Milli(min(received_at)) AS first_ms, toUnixTimestamp64Milli(max(received_at)) AS last_ms
            FROM ${db}.actions WHERE ${where}
            GROUP BY tenant ORDER BY last_ms DESC LIMIT {limit:UInt32}`,
    query_params: params,
    format: 'JSONEachRow',
  });
  const tenants = await tenantsRs.json<{ tenant: string; first_ms: string | number; last_ms: string | number }>();
  return {
    chains: rows.slice(0, limit).map((r) => ({ path: r.path, firstMs: Number(r.first_ms), lastMs: Number(r.last_ms) })),
    tenants: tenants.slice(0, limit).map((t) => ({ tenant: t.tenant, firstMs: Number(t.first_ms), lastMs: Number(t.last_ms) })),
    truncated: rows.length > limit,
  };
}

/** Reads in flight, per context and window: detectors starting together share one. */
const inFlight = new WeakMap<DetectorContext, Map<string, Promise<ChainHistory>>>();

/**
 * The history for a detector's start. The paths and depth detectors learn
 * from the same window by default: started together (as the runtime starts
 * them, at one instant), they share one read instead of running the same
 * aggregate twice. Nothing is kept once the read settles.
 */
export function sharedChainHistory(ctx: DetectorContext, sinceMs: number, limit: number): Promise<ChainHistory> {
  let reads = inFlight.get(ctx);
  if (reads === undefined) inFlight.set(ctx, (reads = new Map()));
  const key = `${sinceMs}/${limit}`;
  let read = reads.get(key);
  if (read === undefined) {
    const own = reads;
    read = readChainHistory(ctx.client, ctx.database, sinceMs, limit);
    own.set(key, read);
    read.then(() => own.delete(key), () => own.delete(key));
  }
  return read;
}
