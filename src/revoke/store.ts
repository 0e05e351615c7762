/**
 * The revocations table (migration 006): insert, read by high-water mark, and
 * the expiry of what a revocation covers. Values are query parameters only.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { Revocation, RevocationKind, RevocationRequest } from './model.js';
import { newRevocation } from './model.js';

interface RevocationTuple {
  revocation_id: string;
  kind: string;
  target: string;
  reason: string;
  revoked_by: string;
  revoked_at: string;
  expires_at: string;
  inserted_at: string;
}

/** A revocation as stored, with the store's time of insertion (the watcher's high-water mark). */
export interface StoredRevocation extends Revocation {
  insertedAtMs: number;
}

const COLUMNS = `revocation_id, kind, target, reason, revoked_by,
  toUnixTimestamp64Milli(revoked_at) AS revoked_at, toUnixTimestamp64Milli(expires_at) AS expires_at,
  toUnixTimestamp64Milli(inserted_at) AS inserted_at`;

function fromTuple(t: RevocationTuple): StoredRevocation {
  return {
    id: t.revocation_id,
    kind: t.kind as RevocationKind,
    target: t.target,
    reason: t.reason,
    revokedBy: t.revoked_by,
    revokedAtMs: Number(t.revoked_at),
    expiresAtMs: Number(t.expires_at),
    insertedAtMs: Number(t.inserted_at),
  };
}

/** A place in the revocation list: the last revocation of a page. */
export interface RevocationPosition {
  revokedAtMs: number;
  id: string;
}

export class RevocationStore {
  constructor(
    private readonly client: ClickHouseClient,
    private readonly db: string,
  ) {}

  /**
   * Records a revocation. Its expiry is the latest exp of the links it covers
   * when those are bounded and known: a link revocation whose link was seen
   * (its descendants cannot outlive it). An agent or key can sign new links at
   * any time, so theirs never expire.
   */
  async revoke(req: RevocationRequest, nowMs = Date.now()): Promise<Revocation> {
    const expiresAtMs = req.kind === 'link' ? await this.linkExpiry(req.target) : 0;
    const r = newRevocation(req, nowMs, expiresAtMs);
    await this.client.insert({
      table: `${this.db}.revocations`,
      format: 'JSONEachRow',
      values: [{ revocation_id: r.id, kind: r.kind, target: r.target, reason: r.reason, revoked_by: r.revokedBy, revoked_at: r.revokedAtMs, expires_at: r.expiresAtMs }],
    });
    return r;
  }

  /** Latest exp (ms) of the links with this hash or jti; 0 when none was seen. */
  async linkExpiry(target: string): Promise<number> {
    const rs = await this.client.query({
      query: `SELECT toUnixTimestamp64Milli(max(expires_at)) AS exp, count() AS n FROM ${this.db}.delegations WHERE link_hash = {t:String} OR jti = {t:String}`,
      query_params: { t: target },
      format: 'JSONEachRow',
    });
    const row = (await rs.json<{ exp: string; n: string }>())[0];
    return row !== undefined && Number(row.n) > 0 ? Number(row.exp) : 0;
  }

  /** Revocations inserted at or after `sinceMs`, oldest first (the watcher's poll). */
  async since(sinceMs: number): Promise<StoredRevocation[]> {
    const rs = await this.client.query({
      query: `SELECT ${COLUMNS} FROM ${this.db}.revocations WHERE inserted_at >= fromUnixTimestamp64Milli({since:Int64}) ORDER BY inserted_at`,
      query_params: { since: Math.max(0, Math.floor(sinceMs)) },
      format: 'JSONEachRow',
    });
    return (await rs.json<RevocationTuple>()).map(fromTuple);
  }

  /**
   * Revocations newest first (revoked_at DESC, then id), optionally one kind or
   * target; `after` is the last one of the previous page (keyset pagination).
   */
  async list(f: { kind?: RevocationKind; target?: string; limit?: number; after?: RevocationPosition } = {}): Promise<StoredRevocation[]> {
    const where: string[] = [];
    if (f.kind !== undefined) where.push('kind = {kind:String}');
    if (f.target !== undefined) where.push('target = {target:String}');
    // Outside the inner select, revoked_at is the epoch-ms column it returns.
    const after = f.after === undefined ? '' : 'WHERE revoked_at < {after_ms:Int64} OR (revoked_at = {after_ms:Int64} AND revocation_id > {after_id:String})';
    const rs = await this.client.query({
      query: `SELECT * FROM (SELECT ${COLUMNS} FROM ${this.db}.revocations FINAL ${where.length ? 'WHERE ' + where.join(' AND ') : ''})
              ${after} ORDER BY revoked_at DESC, revocation_id ASC LIMIT {limit:UInt32}`,
      query_params: {
        kind: f.kind ?? '', target: f.target ?? '', limit: Math.min(Math.max(f.limit ?? 1000, 1), 10_000),
        after_ms: f.after?.revokedAtMs ?? 0, after_id: f.after?.id ?? '',
      },
      format: 'JSONEachRow',
    });
    return (await rs.json<RevocationTuple>()).map(fromTuple);
  }
}
