/**
 * Minting a token-exchange token (spec §11), as a trust domain's STS does at
 * the end of an RFC 8693 exchange: the human in `sub`, the actors in nested
 * `act` claims with the current actor outermost, one scope for all of them.
 * Carried on a span as a one-element `chainsight.delegation.chain`.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { isSpiffeId, trustDomainOf } from '../verify/spiffe.js';
import { EXCHANGE_TOKEN_TYPE } from '../verify/token.js';
import { STS_ROLE } from '../verify/trust-store.js';
import type { SigningKey } from './keys.js';
import { MintError, type Instant, type UnsafeMintOptions } from './mint.js';

export interface MintExchangeOptions {
  /** The trust domain's STS key (`chainsight_role: "sts"`). */
  stsKey: SigningKey;
  /** The STS's own identifier (`iss`); informational. */
  issuer?: string;
  /** The human (or original subject) on whose behalf the actors act. */
  human: string;
  /** Actors from the first (who received the human's grant) to the current one. */
  actors: string[];
  scope: string[];
  task: string;
  purpose?: string;
  aud?: string | string[];
  ttlSec: number;
  now?: Instant;
  jti?: string;
  unsafe?: UnsafeMintOptions;
}

/** Nested `act` claims, current actor outermost (RFC 8693 §4.1). */
export function nestActors(actors: readonly string[]): Record<string, unknown> | undefined {
  let act: Record<string, unknown> | undefined;
  for (const sub of actors) act = act === undefined ? { sub } : { sub, act };
  return act;
}

export async function mintExchangeToken(o: MintExchangeOptions): Promise<string> {
  const current = o.actors[o.actors.length - 1];
  if (!o.unsafe?.skipChecks) {
    if (o.stsKey.role !== STS_ROLE) throw new MintError(`key ${o.stsKey.kid} is not an STS key`);
    if (current === undefined) throw new MintError('a token-exchange token names at least one actor');
    if (!o.actors.every(isSpiffeId)) throw new MintError('every actor must be an agent SPIFFE ID');
    if (trustDomainOf(current) !== o.stsKey.trustDomain) throw new MintError(`the current actor ${current} is not in the STS's trust domain ${o.stsKey.trustDomain}`);
    if (!(o.ttlSec > 0)) throw new MintError('ttlSec must be positive');
  }
  const ms = o.now === undefined ? Date.now() : o.now instanceof Date ? o.now.getTime() : o.now;
  const now = Math.floor(ms / 1000);
  const payload: Record<string, unknown> = {
    iss: o.issuer ?? `https://sts.${o.stsKey.trustDomain}`,
    sub: o.human,
    scope: o.scope.join(' '),
    iat: now,
    nbf: now,
    exp: now + Math.floor(o.ttlSec),
    jti: o.jti ?? randomUUID(),
    task: o.task,
    act: nestActors(o.actors),
  };
  if (o.purpose !== undefined) payload.purpose = o.purpose;
  if (o.aud !== undefined) payload.aud = o.aud;
  Object.assign(payload, o.unsafe?.claims ?? {});
  for (const k of o.unsafe?.omit ?? []) delete payload[k];
  for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
  const header = { alg: o.stsKey.alg, kid: o.stsKey.kid, typ: EXCHANGE_TOKEN_TYPE, ...(o.unsafe?.header ?? {}) };
  return new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(o.stsKey.key);
}
