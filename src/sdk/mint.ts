/**
 * Minting delegation links with jose. `mintRoot` is a human authorizing the
 * first agent (signed with the trust domain's authorization key); `mintChild`
 * is an agent delegating part of its scope to the next one. Both return the
 * whole chain, root first, as carried on spans.
 *
 * By default minting refuses what a verifier would reject (escalated scope,
 * wrong signer, zero lifetime). Tests that need bad links say so through
 * `unsafe`, which can override or drop any claim or header member.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, decodeJwt } from 'jose';
import type { LinkClaims } from '../model/delegation.js';
import { ScopeMatcher, type ImplicationMap } from '../verify/scope.js';
import { isSpiffeId, trustDomainOf } from '../verify/spiffe.js';
import { TOKEN_TYPE, tokenHash } from '../verify/token.js';
import { AUTHORIZATION_ROLE } from '../verify/trust-store.js';
import type { SigningKey } from './keys.js';

export class MintError extends Error {
  override name = 'MintError';
}

/** Escape hatches for building deliberately bad links (tests, demos of attacks). */
export interface UnsafeMintOptions {
  /** Claims set after the normal ones are computed (may add unknown claims). */
  claims?: Record<string, unknown>;
  /** Claims removed after overrides. */
  omit?: string[];
  /** Header members set over alg/kid/typ. */
  header?: Record<string, unknown>;
  /** Skip the scope-diminishment and signer checks. */
  skipChecks?: boolean;
}

/** `now` as milliseconds since the epoch or a Date; seconds in claims. */
export type Instant = number | Date;

function seconds(now: Instant | undefined): number {
  const ms = now === undefined ? Date.now() : now instanceof Date ? now.getTime() : now;
  return Math.floor(ms / 1000);
}

async function sign(claims: LinkClaims, key: SigningKey, unsafe: UnsafeMintOptions | undefined): Promise<string> {
  const payload: Record<string, unknown> = { ...claims, ...(unsafe?.claims ?? {}) };
  for (const k of unsafe?.omit ?? []) delete payload[k];
  for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
  const header = { alg: key.alg, kid: key.kid, typ: TOKEN_TYPE, ...(unsafe?.header ?? {}) };
  return new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(key.key);
}

export interface MintRootOptions {
  /** The trust domain's authorization key. */
  authzKey: SigningKey;
  /** Human account authorizing the agent, e.g. alice@company.com. */
  human: string;
  /** SPIFFE ID of the first agent. */
  agent: string;
  scope: string[];
  task: string;
  purpose?: string;
  ttlSec: number;
  now?: Instant;
  jti?: string;
  unsafe?: UnsafeMintOptions;
}

export async function mintRoot(o: MintRootOptions): Promise<string[]> {
  if (!o.unsafe?.skipChecks) {
    if (o.authzKey.role !== AUTHORIZATION_ROLE) throw new MintError(`key ${o.authzKey.kid} is not an authorization key`);
    if (isSpiffeId(o.human)) throw new MintError('the root issuer must be a human account, not a SPIFFE ID');
    if (trustDomainOf(o.agent) !== o.authzKey.trustDomain) throw new MintError(`agent ${o.agent} is not in trust domain ${o.authzKey.trustDomain}`);
    if (!(o.ttlSec > 0)) throw new MintError('ttlSec must be positive');
  }
  const now = seconds(o.now);
  const claims: LinkClaims = {
    iss: o.human,
    sub: o.agent,
    scope: [...o.scope],
    iat: now,
    nbf: now,
    exp: now + Math.floor(o.ttlSec),
    jti: o.jti ?? randomUUID(),
    task: o.task,
  };
  if (o.purpose !== undefined) claims.purpose = o.purpose;
  return [await sign(claims, o.authzKey, o.unsafe)];
}

export interface MintChildOptions {
  parentChain: string[];
  /** The delegating agent's key: its principal must be the parent link's sub. */
  signerKey: SigningKey;
  /** SPIFFE ID of the agent receiving the delegation. */
  delegatee: string;
  scope: string[];
  /** Lifetime; the link never outlives its parent. Default: until the parent expires. */
  ttlSec?: number;
  now?: Instant;
  jti?: string;
  /** Implications used to check diminishment (as the verifier's policy). */
  implications?: ImplicationMap;
  unsafe?: UnsafeMintOptions;
}

export async function mintChild(o: MintChildOptions): Promise<string[]> {
  const last = o.parentChain[o.parentChain.length - 1];
  if (last === undefined) throw new MintError('parentChain is empty');
  const parent = decodeJwt(last) as unknown as LinkClaims;
  const now = seconds(o.now);
  const parentExp = typeof parent.exp === 'number' ? parent.exp : now;
  const exp = o.ttlSec === undefined ? parentExp : Math.min(parentExp, now + Math.floor(o.ttlSec));
  const iss = o.signerKey.principal;
  if (!o.unsafe?.skipChecks) {
    if (iss === undefined) throw new MintError(`key ${o.signerKey.kid} belongs to no agent`);
    if (iss !== parent.sub) throw new MintError(`signer ${iss} is not the parent link's delegatee ${parent.sub}`);
    const extra = new ScopeMatcher(o.implications).uncovered(o.scope, parent.scope ?? []);
    if (extra.length > 0) throw new MintError(`scope ${extra.join(', ')} is not covered by the parent's scope`);
    if (exp <= now) throw new MintError('the parent link has expired (or ttlSec is not positive)');
  }
  const claims: LinkClaims = {
    iss: iss ?? '',
    sub: o.delegatee,
    scope: [...o.scope],
    iat: now,
    nbf: now,
    exp,
    jti: o.jti ?? randomUUID(),
    task: parent.task,
    prf: tokenHash(last),
  };
  return [...o.parentChain, await sign(claims, o.signerKey, o.unsafe)];
}
