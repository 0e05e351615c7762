/**
 * Revocations: what an operator withdraws, why, who and when. Specified in
 * schemas/delegation-token.md §7a.
 */
import { randomUUID } from 'node:crypto';

/** `link`: one link (by hash or jti) and every chain holding it; `agent`: a principal, wherever it appears in a chain; `key`: a signing key id. */
export const REVOCATION_KINDS = ['link', 'agent', 'key'] as const;
export type RevocationKind = (typeof REVOCATION_KINDS)[number];

export interface Revocation {
  id: string;
  kind: RevocationKind;
  /** Link hash or jti, principal, or kid. */
  target: string;
  reason: string;
  revokedBy: string;
  /** Spans starting at or after this time (ms) under a covered chain fail. */
  revokedAtMs: number;
  /** When nothing it covers can still verify (the latest exp of its links, ms); 0: never. */
  expiresAtMs: number;
}

/** What a caller asks for; the store adds the id, the time and the expiry. */
export interface RevocationRequest {
  kind: RevocationKind;
  target: string;
  reason: string;
  revokedBy: string;
  /** Optional earlier effective time (a key known compromised since then); never in the future. */
  revokedAtMs?: number;
}

export class RevocationRequestError extends Error {
  override name = 'RevocationRequestError';
}

const LIMITS = { target: 512, reason: 1000, revokedBy: 256 } as const;
// Control characters would forge lines in logs and the CLI's output.
const CONTROL = /[\u0000-\u001f\u007f]/;

function text(input: Record<string, unknown>, key: keyof typeof LIMITS, problems: string[]): string {
  const v = input[key];
  if (typeof v !== 'string' || v.trim().length === 0) problems.push(`${key} must be a non-empty string`);
  else if (v.length > LIMITS[key]) problems.push(`${key} is longer than ${LIMITS[key]} characters`);
  else if (CONTROL.test(v)) problems.push(`${key} contains control characters`);
  else return v;
  return '';
}

/**
 * Validates a request from the API or the CLI (hostile JSON). Every problem is
 * reported at once.
 * @throws RevocationRequestError
 */
export function parseRevocationRequest(input: unknown, nowMs: number): RevocationRequest {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new RevocationRequestError('a revocation must be a JSON object');
  const o = input as Record<string, unknown>;
  const problems: string[] = [];
  const kind = o.kind;
  if (typeof kind !== 'string' || !(REVOCATION_KINDS as readonly string[]).includes(kind)) problems.push(`kind must be one of ${REVOCATION_KINDS.join(', ')}`);
  const target = text(o, 'target', problems);
  const reason = text(o, 'reason', problems);
  const revokedBy = text(o, 'revokedBy', problems);
  let revokedAtMs: number | undefined;
  if (o.revokedAt !== undefined) {
    const at = typeof o.revokedAt === 'number' ? o.revokedAt : typeof o.revokedAt === 'string' ? Date.parse(o.revokedAt) : NaN;
    if (!Number.isFinite(at) || at <= 0) problems.push('revokedAt must be an ISO-8601 time or epoch milliseconds');
    else if (at > nowMs) problems.push('revokedAt must not be in the future');
    else revokedAtMs = Math.floor(at);
  }
  const unknown = Object.keys(o).filter((k) => !['kind', 'target', 'reason', 'revokedBy', 'revokedAt'].includes(k));
  if (unknown.length > 0) problems.push(`unknown fields: ${unknown.slice(0, 5).join(', ')}`);
  if (problems.length > 0) throw new RevocationRequestError(problems.join('; '));
  return { kind: kind as RevocationKind, target, reason, revokedBy, ...(revokedAtMs !== undefined ? { revokedAtMs } : {}) };
}

/** A request made a revocation: its id, its time (now unless earlier was asked) and its expiry. */
export function newRevocation(req: RevocationRequest, nowMs: number, expiresAtMs: number): Revocation {
  return {
    id: randomUUID(),
    kind: req.kind,
    target: req.target,
    reason: req.reason,
    revokedBy: req.revokedBy,
    revokedAtMs: req.revokedAtMs ?? nowMs,
    expiresAtMs,
  };
}
