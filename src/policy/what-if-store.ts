/**
 * What-if over the store: the newest decision per span of a time range read
 * from `policy_decisions` (query parameters only), replayed by `whatIf`, and
 * the range's actions no policy stage judged counted beside it. This is what
 * `chainsight policy what-if` prints and what an API route can return.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { assertIdentifier } from '../store/client.js';
import type { CompiledPolicy } from './compile.js';
import { parsePolicy, PolicyLoadError, type PolicyProblem } from './loader.js';
import { whatIf, type StoredDecision, type WhatIfOptions, type WhatIfReport } from './what-if.js';

/** A time range over the spans' start times, ms since the epoch; a missing bound is open. */
export interface WhatIfRange {
  fromMs?: number;
  toMs?: number;
  /** Most decisions replayed (default 200,000: rows are held in memory, about 1 KB each); the report says when more were stored. */
  limit?: number;
}

export interface StoreWhatIfReport extends WhatIfReport {
  range: { from: string | null; to: string | null };
  /** More decisions were stored in the range than `limit`: the newest spans judged were replayed. */
  truncated: boolean;
  /** Actions stored in the range, and those with no decision to replay (no policy stage judged them). */
  actions: { stored: number; notReplayable: number };
}

export const DEFAULT_WHAT_IF_LIMIT = 200_000;
/** Bounds DateTime64(9) can hold (1900-01-01 .. 2262-04-11). */
const MIN_MS = -2_208_988_800_000;
const MAX_MS = 9_223_372_036_854;

export class WhatIfRangeError extends Error {
  override name = 'WhatIfRangeError';
}

function bound(name: string, v: number | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isSafeInteger(v) || v < MIN_MS || v > MAX_MS) throw new WhatIfRangeError(`${name} is outside the times the store holds`);
  return v;
}

/**
 * A bound as the CLI and the API accept it: an ISO 8601 time, milliseconds
 * since the epoch, `now`, or a duration before now (`90m`, `24h`, `7d`).
 */
export function parseTimeBound(name: string, text: string, nowMs = Date.now()): number {
  const t = text.trim();
  const ago = /^(\d{1,6})(s|m|h|d)$/.exec(t);
  if (ago) return nowMs - Number(ago[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[ago[2] as 's' | 'm' | 'h' | 'd'];
  if (t === 'now') return nowMs;
  // Milliseconds need 10+ digits (after 1970-04-26), so a bare year is never taken for one.
  if (/^\d{10,16}$/.test(t)) return Number(t);
  // Only full dates (a bare year or "12:00" is too easy to misread).
  const ms = /^\d{4}-\d{2}-\d{2}/.test(t) ? Date.parse(t) : NaN;
  if (Number.isNaN(ms)) throw new WhatIfRangeError(`${name}: ${JSON.stringify(text.slice(0, 64))} is not a time (ISO 8601, ms since the epoch, "now", or a duration ago such as 24h)`);
  return ms;
}

function filter(alias: string, range: WhatIfRange): { where: string; params: Record<string, unknown> } {
  const parts: string[] = [];
  const params: Record<string, unknown> = {};
  const from = bound('from', range.fromMs);
  const to = bound('to', range.toMs);
  if (from !== undefined && to !== undefined && from >= to) throw new WhatIfRangeError('from must be before to');
  if (from !== undefined) {
    parts.push(`${alias}.ts >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')`);
    params.from = from;
  }
  if (to !== undefined) {
    parts.push(`${alias}.ts < fromUnixTimestamp64Milli({to:Int64}, 'UTC')`);
    params.to = to;
  }
  return { where: parts.length ? parts.join(' AND ') : '1', params };
}

/** The newest decision of each span whose start is in the range, newest spans first, at most `limit` + 1. */
export async function readDecisions(client: ClickHouseClient, db: string, range: WhatIfRange): Promise<StoredDecision[]> {
  const f = filter('d', range);
  const limit = range.limit ?? DEFAULT_WHAT_IF_LIMIT;
  const rs = await client.query({
    query: `SELECT task_id, trace_id, span_id, toString(ts, 'UTC') AS ts, result, reason_codes, reason_details, revision, policy_version, input
            FROM ${assertIdentifier(db)}.policy_decisions AS d
            WHERE ${f.where}
            ORDER BY d.decided_at DESC, d.decision_id
            LIMIT 1 BY d.trace_id, d.span_id
            LIMIT {limit:UInt64}`,
    query_params: { ...f.params, limit: limit + 1 },
    format: 'JSONEachRow',
  });
  return rs.json<StoredDecision>();
}

/** Actions (spans) stored in the range, and how many of them have no decision in the range. */
export async function countUnjudged(client: ClickHouseClient, db: string, range: WhatIfRange): Promise<{ stored: number; notReplayable: number }> {
  const d = assertIdentifier(db);
  const a = filter('a', range);
  const p = filter('p', range);
  const rs = await client.query({
    query: `SELECT count() AS stored, countIf((trace_id, span_id) NOT IN (
              SELECT p.trace_id, p.span_id FROM ${d}.policy_decisions AS p WHERE ${p.where})) AS unjudged
            FROM (SELECT DISTINCT a.trace_id, a.span_id FROM ${d}.actions AS a WHERE ${a.where})`,
    query_params: { ...a.params, ...p.params },
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ stored: string | number; unjudged: string | number }>();
  return { stored: Number(row?.stored ?? 0), notReplayable: Number(row?.unjudged ?? 0) };
}

/**
 * The what-if report for a draft over a range of the store: the function an
 * API route mounts (`POST /api/policy/what-if`). Throws WhatIfRangeError for a
 * bad range (a client error) and the store's errors as they are.
 */
export async function whatIfReport(client: ClickHouseClient, db: string, draft: CompiledPolicy, range: WhatIfRange, opts: WhatIfOptions = {}): Promise<StoreWhatIfReport> {
  const limit = range.limit ?? DEFAULT_WHAT_IF_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new WhatIfRangeError('limit must be a positive integer');
  // chdb runs one query at a time per connection: one after the other.
  const rows = await readDecisions(client, db, { ...range, limit });
  const actions = await countUnjudged(client, db, range);
  const truncated = rows.length > limit;
  const report = whatIf(truncated ? rows.slice(0, limit) : rows, draft, opts);
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  return { ...report, range: { from: iso(range.fromMs), to: iso(range.toMs) }, truncated, actions };
}

/** A what-if request an API route received, checked: the draft compiled, the range parsed. */
export interface WhatIfRequest {
  draft: CompiledPolicy;
  range: WhatIfRange;
  options: WhatIfOptions;
}

/** A request that cannot be answered (HTTP 400): why, with the draft's problems when it does not load. */
export class WhatIfRequestError extends Error {
  override name = 'WhatIfRequestError';
  constructor(
    message: string,
    readonly problems: PolicyProblem[] = [],
  ) {
    super(message);
  }
}

/**
 * The body of `POST /api/policy/what-if`, checked: `{"policy": "<draft YAML
 * text>", "from"?, "to"?, "limit"?, "examples"?}`, times as `parseTimeBound`
 * reads them (or ms numbers). Throws WhatIfRequestError for anything else.
 */
export function parseWhatIfRequest(body: unknown, nowMs = Date.now()): WhatIfRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new WhatIfRequestError('the body must be a JSON object with the draft policy as "policy"');
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !['policy', 'from', 'to', 'limit', 'examples'].includes(k));
  if (unknown.length > 0) throw new WhatIfRequestError(`unknown field ${JSON.stringify(unknown[0]!.slice(0, 64))}`);
  if (typeof b.policy !== 'string') throw new WhatIfRequestError('"policy" must be the draft policy as YAML (or JSON) text');
  let draft: CompiledPolicy;
  try {
    draft = parsePolicy(b.policy, 'draft');
  } catch (e) {
    if (e instanceof PolicyLoadError) throw new WhatIfRequestError('the draft policy does not load', e.problems);
    throw e;
  }
  const time = (name: 'from' | 'to'): number | undefined => {
    const v = b[name];
    if (v === undefined || v === null) return undefined;
    try {
      if (typeof v === 'number') return bound(name, v);
      if (typeof v === 'string') return bound(name, parseTimeBound(name, v, nowMs));
    } catch (e) {
      throw new WhatIfRequestError((e as Error).message);
    }
    throw new WhatIfRequestError(`"${name}" must be a time`);
  };
  const count = (name: 'limit' | 'examples', max: number): number | undefined => {
    const v = b[name];
    if (v === undefined || v === null) return undefined;
    if (!Number.isSafeInteger(v) || (v as number) < 1 || (v as number) > max) throw new WhatIfRequestError(`"${name}" must be an integer from 1 to ${max}`);
    return v as number;
  };
  const fromMs = time('from');
  const toMs = time('to');
  if (fromMs !== undefined && toMs !== undefined && fromMs >= toMs) throw new WhatIfRequestError('from must be before to');
  const limit = count('limit', DEFAULT_WHAT_IF_LIMIT);
  const examples = count('examples', 100);
  return {
    draft,
    range: { ...(fromMs !== undefined ? { fromMs } : {}), ...(toMs !== undefined ? { toMs } : {}), ...(limit !== undefined ? { limit } : {}) },
    options: examples !== undefined ? { examplesPerRule: examples } : {},
  };
}
