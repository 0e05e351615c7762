/**
 * Human approval tokens (schemas/delegation-token.md §9a): a compact JWS with
 * `typ: chainsight-approval+jwt`, signed by an authorization key of the
 * approved link's trust domain, naming that link by hash (`lnk`). Verifying
 * one needs the trust store and node:crypto; the policy engine then only
 * reads the outcome (a PolicyApproval), so it stays pure.
 */
import { SignJWT } from 'jose';
import type { VerifiedLink } from '../model/delegation.js';
import type { SigningKey } from '../sdk/keys.js';
import { SUPPORTED_ALGORITHMS, type SignatureAlgorithm } from '../verify/policy.js';
import { verifySignature } from '../verify/signature.js';
import { isSpiffeId } from '../verify/spiffe.js';
import { canonicalBase64url, tokenHash } from '../verify/token.js';
import { AUTHORIZATION_ROLE, type TrustStore } from '../verify/trust-store.js';
import { isScope } from './scope-select.js';
import type { PolicyApproval } from './types.js';

export const APPROVAL_TYPE = 'chainsight-approval+jwt';
/** Largest approval token accepted, in bytes. */
export const MAX_APPROVAL_BYTES = 4096;

const CLAIMS = new Set(['iss', 'lnk', 'scope', 'iat', 'exp', 'jti']);
const HASH = /^[A-Za-z0-9_-]{43}$/;
const MAX_SECONDS = 253402300799;

export interface ApprovalClaims {
  /** The approving human's account (never a SPIFFE ID). */
  iss: string;
  /** base64url SHA-256 of the approved link's compact JWS. */
  lnk: string;
  /** The sensitive scopes approved. */
  scope: string[];
  iat: number;
  exp: number;
  jti: string;
}

type Parsed = { ok: true; alg: string; kid: string; claims: ApprovalClaims; signingInput: Buffer; signature: Buffer } | { ok: false; error: string; claims?: Partial<ApprovalClaims> };

function json(part: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const secs = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= MAX_SECONDS;

/** Split and check an approval's header and claims (no key involved). */
export function parseApproval(token: string): Parsed {
  if (typeof token !== 'string') return { ok: false, error: 'approval is not a string' };
  if (Buffer.byteLength(token, 'utf8') > MAX_APPROVAL_BYTES) return { ok: false, error: `approval is larger than ${MAX_APPROVAL_BYTES} bytes` };
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, error: 'not a compact JWS' };
  const [h, p, s] = parts as [string, string, string];
  if (!canonicalBase64url(s)) return { ok: false, error: 'signature is not canonical base64url' };
  const header = json(h);
  const claims = json(p);
  if (!header || !claims) return { ok: false, error: 'header or payload is not base64url JSON' };
  if (header.typ !== APPROVAL_TYPE) return { ok: false, error: `typ must be ${APPROVAL_TYPE}` };
  if (header.crit !== undefined) return { ok: false, error: 'crit is not supported' };
  if (typeof header.alg !== 'string' || typeof header.kid !== 'string' || header.kid.length === 0) return { ok: false, error: 'header needs alg and kid' };
  const c = claims as Partial<ApprovalClaims>;
  const extra = Object.keys(claims).filter((k) => !CLAIMS.has(k));
  if (extra.length > 0) return { ok: false, error: `unknown claims ${extra.join(', ')}`, claims: c };
  if (typeof c.iss !== 'string' || c.iss.length === 0 || c.iss.length > 512 || isSpiffeId(c.iss) || /^spiffe:/i.test(c.iss)) return { ok: false, error: 'iss must be a human account, not a SPIFFE ID', claims: c };
  if (typeof c.lnk !== 'string' || !HASH.test(c.lnk)) return { ok: false, error: 'lnk must be a link hash (43 base64url characters)', claims: c };
  if (!Array.isArray(c.scope) || c.scope.length === 0 || c.scope.length > 64 || !c.scope.every(isScope) || new Set(c.scope).size !== c.scope.length) {
    return { ok: false, error: 'scope must be 1 to 64 unique well-formed scopes', claims: { ...c, scope: [] } };
  }
  if (!secs(c.iat) || !secs(c.exp) || c.exp <= c.iat) return { ok: false, error: 'iat and exp must be seconds with exp after iat', claims: c };
  if (typeof c.jti !== 'string' || c.jti.length === 0 || c.jti.length > 128) return { ok: false, error: 'jti must be a string of 1 to 128 characters', claims: c };
  return { ok: true, alg: header.alg, kid: header.kid, claims: c as ApprovalClaims, signingInput: Buffer.from(`${h}.${p}`, 'ascii'), signature: Buffer.from(s, 'base64url') };
}

function outcome(hash: string, c: Partial<ApprovalClaims> | undefined, error: string): PolicyApproval {
  const ok = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  return {
    hash,
    verified: error === '',
    error,
    linkHash: typeof c?.lnk === 'string' && c.lnk.length <= 128 ? c.lnk : '',
    approver: typeof c?.iss === 'string' && c.iss.length <= 512 ? c.iss : '',
    scope: Array.isArray(c?.scope) && c.scope.every(isScope) ? c.scope.slice(0, 256) : [],
    iat: ok(c?.iat) ? c.iat : 0,
    exp: ok(c?.exp) ? c.exp : 0,
  };
}

export interface ApprovalVerifyOptions {
  /** Allowed `alg` values (default: every supported one; `none` and HMAC never). */
  algorithms?: readonly SignatureAlgorithm[];
}

/**
 * Verify each approval against the chain it travels with: the link it names
 * must be in the chain, and the signature must verify with an authorization
 * key of that link's trust domain. Never throws; a failure is a
 * PolicyApproval with `verified: false` and the reason.
 */
export function verifyApprovals(tokens: readonly unknown[], links: readonly VerifiedLink[], trust: TrustStore, opts: ApprovalVerifyOptions = {}): PolicyApproval[] {
  const algorithms = new Set<string>(opts.algorithms ?? SUPPORTED_ALGORITHMS);
  return tokens.slice(0, 64).map((t) => {
    const hash = typeof t === 'string' ? tokenHash(t) : '';
    const parsed = parseApproval(t as string);
    if (!parsed.ok) return outcome(hash, parsed.claims, parsed.error);
    const { alg, kid, claims } = parsed;
    const link = links.find((l) => l.hash === claims.lnk);
    if (link === undefined) return outcome(hash, claims, 'lnk names no link of this chain');
    if (!algorithms.has(alg)) return outcome(hash, claims, `alg ${JSON.stringify(alg)} is not allowed`);
    const key = trust.resolve(link.trustDomain, kid);
    if (key === undefined) return outcome(hash, claims, `no key ${kid} in trust domain ${link.trustDomain}`);
    if (key.role !== AUTHORIZATION_ROLE) return outcome(hash, claims, `key ${kid} is not ${link.trustDomain}'s authorization key${key.principal ? ` (it belongs to agent ${key.principal})` : ''}`);
    if (!key.algorithms.has(alg as SignatureAlgorithm)) return outcome(hash, claims, `key ${kid} cannot verify ${alg}`);
    if (!verifySignature(alg as SignatureAlgorithm, key.key, parsed.signingInput, parsed.signature)) return outcome(hash, claims, `signature does not verify with key ${kid}`);
    return outcome(hash, claims, '');
  });
}

export interface MintApprovalOptions {
  /** The trust domain's authorization key (tests may pass another key to build a bad approval). */
  key: SigningKey;
  approver: string;
  /** The approved link's compact JWS (its hash goes into `lnk`), or the hash itself. */
  link: string;
  scope: string[];
  ttlSec: number;
  /** ms since the epoch. */
  now?: number;
  jti?: string;
}

/** Sign an approval for one link. */
export async function mintApproval(o: MintApprovalOptions): Promise<string> {
  const iat = Math.floor((o.now ?? Date.now()) / 1000);
  const lnk = HASH.test(o.link) ? o.link : tokenHash(o.link);
  const claims = { iss: o.approver, lnk, scope: [...o.scope], iat, exp: iat + o.ttlSec, jti: o.jti ?? crypto.randomUUID() };
  return new SignJWT(claims).setProtectedHeader({ alg: o.key.alg, kid: o.key.kid, typ: APPROVAL_TYPE }).sign(o.key.key);
}
