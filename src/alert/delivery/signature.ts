/**
 * Signing what chainsight sends, so a receiver knows it came from us and is
 * fresh. The signature covers the timestamp and the exact body bytes:
 *
 *   X-Chainsight-Timestamp: <unix seconds>
 *   X-Chainsight-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>
 *
 * A receiver recomputes it over the raw body, compares in constant time,
 * refuses a timestamp outside its tolerance (a replay), and drops an
 * Idempotency-Key it has already processed (a redelivery).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-chainsight-signature';
export const TIMESTAMP_HEADER = 'x-chainsight-timestamp';
export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** Five minutes either way, what most webhook senders document. */
export const DEFAULT_TOLERANCE_S = 300;

export function signBody(secret: Buffer, timestampS: number, body: Buffer): string {
  const mac = createHmac('sha256', secret).update(`${timestampS}.`, 'utf8').update(body).digest('hex');
  return `sha256=${mac}`;
}

export type SignatureVerdict =
  | { ok: true }
  | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

/** What a receiver does with the two headers and the raw body; chainsight's tests use it as the receiver. */
export function verifySignature(
  secret: Buffer,
  headers: { signature: string | undefined; timestamp: string | undefined },
  body: Buffer,
  nowS: number,
  toleranceS = DEFAULT_TOLERANCE_S,
): SignatureVerdict {
  if (headers.signature === undefined || headers.timestamp === undefined) return { ok: false, reason: 'missing' };
  if (!/^\d{1,12}$/.test(headers.timestamp) || !/^sha256=[0-9a-f]{64}$/.test(headers.signature)) return { ok: false, reason: 'malformed' };
  const ts = Number(headers.timestamp);
  if (Math.abs(nowS - ts) > toleranceS) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(signBody(secret, ts, body), 'utf8');
  const given = Buffer.from(headers.signature, 'utf8');
  return expected.length === given.length && timingSafeEqual(expected, given) ? { ok: true } : { ok: false, reason: 'mismatch' };
}
