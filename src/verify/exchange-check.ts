/**
 * A token-exchange token (spec §11) checked and mapped onto the chain model:
 * one hop per actor, human first, every hop with the token's scope and times,
 * so span checks, policy, detection and storage treat it as any chain. Only
 * the trust domain's STS key may sign it; the ChainCheck says `sts-token`,
 * because nothing but the STS vouches for the intermediate hops.
 */
import { hash } from 'node:crypto';
import type { ChainCheck, LinkClaims, VerifiedLink } from '../model/delegation.js';
import type { Reason } from '../model/verdict.js';
import { readExchangeClaims, type ExchangeClaims } from './exchange-claims.js';
import type { LinkCheckContext, LinkReason } from './link-check.js';
import type { SignatureAlgorithm } from './policy.js';
import { verifySignature } from './signature.js';
import { trustDomainOf } from './spiffe.js';
import { EXCHANGE_TOKEN_TYPE, parseToken, tokenHash, type ParsedToken } from './token.js';
import { STS_ROLE } from './trust-store.js';

export interface ExchangeCheck {
  check: ChainCheck;
  /** The trust domain whose bundle lacked the STS key: a fresher bundle might hold it. */
  wantsFresher: string[];
}

/**
 * Hop i's hash: the token's own hash for the first hop (so revoking the
 * token's hash revokes every hop under it), a hash of the token's hash and
 * the index after it. Stable for a given token, distinct per hop.
 */
export function hopHash(tokenHashValue: string, i: number): string {
  return i === 0 ? tokenHashValue : hash('sha256', `${tokenHashValue}#${i}`, 'base64url');
}

/** One hop per actor, the human's grant first. */
export function exchangeHops(c: ExchangeClaims, h: string, kid: string, alg: string, trustDomain: string): VerifiedLink[] {
  return c.actors.map((actor, i) => {
    const claims: LinkClaims = { iss: i === 0 ? c.sub : (c.actors[i - 1] as string), sub: actor, scope: c.scope, iat: c.iat, nbf: c.nbf, exp: c.exp, jti: c.jti, task: c.task };
    if (i > 0) claims.prf = hopHash(h, i - 1);
    if (i === 0 && c.purpose !== undefined) claims.purpose = c.purpose;
    return { hash: hopHash(h, i), claims, kid, alg, trustDomain };
  });
}

function failedCheck(reasons: LinkReason[], wantsFresher: string[] = []): ExchangeCheck {
  return { check: { links: [], reasons: reasons.map((r) => ({ ...r, link: 0 })), evidence: 'sts-token' }, wantsFresher };
}

export function checkExchangeToken(token: string, ctx: LinkCheckContext): ExchangeCheck {
  const bytes = Buffer.byteLength(token, 'utf8');
  if (bytes > ctx.policy.maxTokenBytes) return failedCheck([{ code: 'token.too_large', message: `token is ${bytes} bytes, limit ${ctx.policy.maxTokenBytes}` }]);
  const parsed = parseToken(token, EXCHANGE_TOKEN_TYPE);
  if (!parsed.ok) return failedCheck([{ code: 'token.malformed', message: parsed.error }]);
  const { header, payload } = parsed.token;
  const reasons: LinkReason[] = [];
  const algAllowed = ctx.allowedAlgorithms.has(header.alg);
  if (!algAllowed) reasons.push({ code: 'signature.algorithm_forbidden', message: `alg ${JSON.stringify(header.alg)} is not allowed` });
  const read = readExchangeClaims(payload, ctx.policy.maxDepth, ctx.policy.clockSkewSec);
  if (!read.ok) return failedCheck([...reasons, ...read.reasons]);
  const c = read.claims;
  if (c.exp - c.iat > ctx.policy.maxLifetimeSec) {
    reasons.push({ code: 'time.lifetime_exceeded', message: `lifetime ${c.exp - c.iat}s exceeds ${ctx.policy.maxLifetimeSec}s` });
  }
  // The STS of the current actor's trust domain issued the token (it performed the last exchange).
  const trustDomain = trustDomainOf(c.actors[c.actors.length - 1] as string) ?? '';
  const signer = algAllowed ? checkStsSignature(parsed.token, trustDomain, ctx) : undefined;
  if (signer !== undefined) reasons.push(signer);
  const links = exchangeHops(c, tokenHash(token), header.kid, header.alg, trustDomain);
  for (const l of links) {
    Object.freeze(l.claims.scope);
    Object.freeze(l.claims);
    Object.freeze(l);
  }
  const placed: Reason[] = reasons.map((r) => ({ ...r, link: 0 }));
  const wantsFresher = signer?.code === 'signature.unknown_trust_domain' || signer?.code === 'signature.unknown_key' ? [trustDomain] : [];
  return { check: { links, reasons: placed, evidence: 'sts-token' }, wantsFresher };
}

/** The signature, with the STS key of the trust domain and no other (never an agent's, never the authorization key, never an x5c). */
function checkStsSignature(t: ParsedToken, trustDomain: string, ctx: LinkCheckContext): LinkReason | undefined {
  const { header, signingInput, signature } = t;
  if (!ctx.trust.hasTrustDomain(trustDomain)) return { code: 'signature.unknown_trust_domain', message: `no trust bundle for ${trustDomain}` };
  if (header.x5c !== undefined) return { code: 'signature.key_not_bound', message: `a token-exchange token is signed by ${trustDomain}'s STS key, not by an X.509-SVID (x5c)` };
  const key = ctx.trust.resolve(trustDomain, header.kid);
  if (key === undefined) return { code: 'signature.unknown_key', message: `no key ${header.kid} in trust domain ${trustDomain}` };
  if (key.role !== STS_ROLE) {
    const holder = key.principal ?? (key.role ? `role ${key.role}` : 'no role');
    return { code: 'signature.key_not_bound', message: `key ${header.kid} is bound to ${holder}, not ${trustDomain}'s STS (chainsight_role "${STS_ROLE}"), so it cannot sign a token-exchange token` };
  }
  if (!key.algorithms.has(header.alg as SignatureAlgorithm)) {
    return { code: 'signature.algorithm_mismatch', message: `header alg ${header.alg} is not what key ${header.kid} serves (${[...key.algorithms].join(', ')})` };
  }
  ctx.onSignatureCheck();
  if (!verifySignature(header.alg as SignatureAlgorithm, key.key, signingInput, signature)) {
    return { code: 'signature.invalid', message: `signature does not verify with key ${header.kid}` };
  }
  return undefined;
}
