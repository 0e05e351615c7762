import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ApiProblem } from './problem.js';

/**
 * Opaque, tamper-evident cursors: base64url(JSON position) "." base64url(HMAC-SHA256).
 * The MAC covers the list a cursor belongs to and the request's filters, so a
 * cursor forged, edited, or replayed on another list or another filter is a 400
 * before any of it reaches a query. The position inside is still passed to the
 * store as query parameters only.
 */
export const MIN_CURSOR_KEY_BYTES = 32;
export const MAX_CURSOR_CHARS = 4096;

export class CursorCodec {
  private readonly key: Buffer;

  /** Without a key, a random per-process one: cursors then do not survive a restart or cross replicas. */
  constructor(key?: Buffer) {
    if (key !== undefined && key.length < MIN_CURSOR_KEY_BYTES) throw new Error(`cursor key must be at least ${MIN_CURSOR_KEY_BYTES} bytes`);
    this.key = key ?? randomBytes(32);
  }

  encode(list: string, scope: string, position: readonly string[]): string {
    const body = Buffer.from(JSON.stringify(position)).toString('base64url');
    return `${body}.${this.mac(list, scope, body).toString('base64url')}`;
  }

  /** The position a cursor carries, or an ApiProblem('invalid-cursor'). `arity` is how many strings it must hold. */
  decode(list: string, scope: string, cursor: string, arity: number): string[] {
    const bad = () => new ApiProblem('invalid-cursor', 'cursor is not one this server issued for this list and these filters');
    if (cursor.length > MAX_CURSOR_CHARS) throw bad();
    const m = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/.exec(cursor);
    if (!m) throw bad();
    // Compared as text: base64url's last character carries unused bits, so decoded bytes would let variants through.
    const given = Buffer.from(m[2]!);
    const want = Buffer.from(this.mac(list, scope, m[1]!).toString('base64url'));
    if (given.length !== want.length || !timingSafeEqual(given, want)) throw bad();
    let position: unknown;
    try {
      position = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8'));
    } catch {
      throw bad();
    }
    if (!Array.isArray(position) || position.length !== arity || !position.every((p) => typeof p === 'string')) throw bad();
    return position as string[];
  }

  private mac(list: string, scope: string, body: string): Buffer {
    // Length-prefixed fields: no two (list, scope, body) triples share an input.
    const h = createHmac('sha256', this.key);
    for (const part of [list, scope, body]) h.update(`${Buffer.byteLength(part)}:${part};`);
    return h.digest();
  }
}

/**
 * A list's cursor for one request: the store position it carries (undefined
 * on the first page), and how to hand out the next one. Signed over the list's
 * name and its filters (`scope`), so it is valid only for the same list and filters.
 */
export function listCursor(codec: CursorCodec, list: string, scope: object, raw: string | undefined) {
  const key = JSON.stringify(scope);
  return {
    after: raw === undefined ? undefined : codec.decode(list, key, raw, 1)[0]!,
    next: (position: string | null | undefined) => (position == null ? null : codec.encode(list, key, [position])),
  };
}

/**
 * A store position from a verified cursor. Only this server signs them, but a
 * key shared across versions could carry an older shape: that is the
 * caller's stale cursor (400), not a server fault.
 */
export function cursorPosition<K extends string>(text: string, keys: readonly K[]): Record<K, string> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  const o = v as Record<string, unknown> | undefined;
  if (!o || typeof o !== 'object' || !keys.every((k) => typeof o[k] === 'string')) {
    throw new ApiProblem('invalid-cursor', 'cursor is from another version of this list; start again without it');
  }
  return Object.fromEntries(keys.map((k) => [k, o[k]])) as Record<K, string>;
}

/** Page size bounds shared by every list. */
export const PAGE_LIMIT = { default: 100, max: 1000 } as const;

export function parseLimit(raw: string | undefined, fallback: number = PAGE_LIMIT.default): number {
  if (raw === undefined) return fallback;
  if (!/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > PAGE_LIMIT.max) {
    throw new ApiProblem('invalid-request', `limit must be an integer from 1 to ${PAGE_LIMIT.max}`);
  }
  return Number(raw);
}
