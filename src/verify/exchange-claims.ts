/**
 * The claims of a token-exchange token (RFC 8693, spec §11), read without any
 * key: the human in `sub`, one scope for every hop, the token's times, and
 * the actors from the nested `act` claims. Pure. Every payload is hostile:
 * the `act` nesting is walked iteratively and bounded, never recursed into.
 */
import type { LinkReason } from './link-check.js';
import { isSpiffeId } from './spiffe.js';

export interface ExchangeClaims {
  /** The STS that issued the token (informational: the key binding is what counts). */
  iss: string;
  /** The human (or original subject) on whose behalf every actor acts. */
  sub: string;
  aud?: string | string[];
  /** RFC 8693 §4.2: space-separated, shared by every hop. */
  scope: string[];
  iat: number;
  nbf: number;
  exp: number;
  jti: string;
  task: string;
  purpose?: string;
  client_id?: string;
  /** Actors from the first (who received the human's grant) to the current one. */
  actors: string[];
}

/** Members a token may carry; anything else is refused, as for links. */
const TOKEN_MEMBERS = new Set(['iss', 'sub', 'aud', 'scope', 'iat', 'nbf', 'exp', 'jti', 'task', 'purpose', 'client_id', 'act']);
/** An `act` names an actor and its predecessor; nothing else (RFC 8693 §4.1: other claims there are not meaningful). */
const ACT_MEMBERS = new Set(['sub', 'act']);
const MAX_TEXT = 1024;
const MAX_SCOPES = 64;

function isText(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_TEXT;
}

function isTime(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? s.slice(0, 80) + '…' : s);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export type ExchangeClaimsResult = { ok: true; claims: ExchangeClaims } | { ok: false; reasons: LinkReason[] };

/**
 * Validate a decoded payload. `maxDepth` bounds the number of actors (the
 * policy's maximum chain depth); the walk stops one level past it.
 */
export function readExchangeClaims(payload: Record<string, unknown>, maxDepth: number, clockSkewSec: number): ExchangeClaimsResult {
  const bad: string[] = [];
  const reasons: LinkReason[] = [];
  for (const k of Object.keys(payload)) if (!TOKEN_MEMBERS.has(k)) bad.push(`unknown claim ${quote(k)}`);
  const p = payload;
  for (const k of ['iss', 'sub', 'jti', 'task'] as const) if (!isText(p[k])) bad.push(`${k} must be a non-empty string of at most ${MAX_TEXT} characters`);
  for (const k of ['purpose', 'client_id'] as const) if (p[k] !== undefined && !isText(p[k])) bad.push(`${k} must be a non-empty string when present`);
  for (const k of ['iat', 'exp'] as const) if (!isTime(p[k])) bad.push(`${k} must be a non-negative integer (seconds)`);
  if (p.nbf !== undefined && !isTime(p.nbf)) bad.push('nbf must be a non-negative integer (seconds) when present');
  if (p.aud !== undefined && !isText(p.aud) && !(Array.isArray(p.aud) && p.aud.length > 0 && p.aud.length <= MAX_SCOPES && p.aud.every(isText))) {
    bad.push('aud must be a non-empty string or array of strings when present');
  }
  let scope: string[] = [];
  if (typeof p.scope !== 'string' || p.scope.length > MAX_TEXT * 4) bad.push('scope must be a space-separated string (RFC 8693 §4.2)');
  else {
    scope = p.scope.split(' ').filter((s) => s.length > 0);
    if (scope.length === 0) bad.push('scope names no scope');
    else if (scope.length > MAX_SCOPES) bad.push(`scope names ${scope.length} scopes, at most ${MAX_SCOPES}`);
  }
  if (isText(p.sub) && (isSpiffeId(p.sub) || /^spiffe:/i.test(p.sub))) {
    reasons.push({ code: 'chain.root_invalid', message: `sub must be the human (or original subject), not the workload ${quote(p.sub)}` });
  }

  // Outermost act first: the current actor, then who acted before it.
  const outermostFirst: string[] = [];
  const seenAt = new Map<string, number>();
  let node: unknown = p.act;
  if (node === undefined) bad.push('act is missing: a token-exchange token names at least one actor');
  for (let level = 0; node !== undefined; level++) {
    const where = 'act' + '.act'.repeat(level);
    if (level >= maxDepth) {
      reasons.push({ code: 'chain.too_deep', message: `${where} nests more than ${maxDepth} actors, the policy's maximum depth` });
      break;
    }
    if (!isObject(node)) {
      bad.push(`${where} must be a JSON object, not ${node === null ? 'null' : Array.isArray(node) ? 'an array' : typeof node}`);
      break;
    }
    const extra = Object.keys(node).filter((k) => !ACT_MEMBERS.has(k));
    if (extra.length > 0) bad.push(`${where} carries ${extra.slice(0, 5).map(quote).join(', ')}: an act names only sub and the previous act`);
    const actor = node.sub;
    if (!isText(actor) || !isSpiffeId(actor)) {
      bad.push(`${where}.sub must be an agent's SPIFFE ID`);
      break;
    }
    const before = seenAt.get(actor);
    if (before !== undefined) {
      reasons.push({ code: 'chain.principal_misaligned', message: `actor ${quote(actor)} appears at ${'act' + '.act'.repeat(before)} and again at ${where}: a cycle is no delegation path` });
      break;
    }
    seenAt.set(actor, level);
    outermostFirst.push(actor);
    node = node.act;
  }

  if (bad.length > 0) reasons.unshift({ code: 'token.claims_invalid', message: bad.join('; ') });
  if (reasons.length > 0) return { ok: false, reasons };

  const iat = p.iat as number;
  const nbf = (p.nbf as number | undefined) ?? iat;
  const exp = p.exp as number;
  const rules: string[] = [];
  if (exp <= nbf) rules.push('exp must be after nbf');
  if (nbf < iat - clockSkewSec) rules.push('nbf is before iat (beyond clock skew)');
  if (rules.length > 0) return { ok: false, reasons: [{ code: 'token.claims_invalid', message: rules.join('; ') }] };

  const claims: ExchangeClaims = { iss: p.iss as string, sub: p.sub as string, scope, iat, nbf, exp, jti: p.jti as string, task: p.task as string, actors: outermostFirst.reverse() };
  if (p.aud !== undefined) claims.aud = p.aud as string | string[];
  if (p.purpose !== undefined) claims.purpose = p.purpose as string;
  if (p.client_id !== undefined) claims.client_id = p.client_id as string;
  return { ok: true, claims };
}
