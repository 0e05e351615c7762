/**
 * Proving who sent an OTLP request (schemas/delegation-token.md §4.5): an mTLS
 * client certificate that is an X.509-SVID of its trust domain, or a JWT-SVID
 * bearer token signed by one of its trust domain's `jwt-svid` keys. Both are
 * judged against the trust store in force, so bundle reloads and rotations
 * apply to the next request. Pure: certificates or a token in, a result out.
 */
import type { X509Certificate } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import type { AuthenticatedPeer } from '../model/span.js';
import { checkX5c, uriSans } from '../verify/trust-x509.js';
import { trustDomainOf } from '../verify/spiffe.js';
import type { TrustedKey } from '../verify/trust-bundle.js';

export type PeerResult = { ok: true; peer: AuthenticatedPeer } | { ok: false; error: string };

/** What peer checks read from the trust store. */
export interface PeerTrust {
  authorities(trustDomain: string): readonly X509Certificate[];
  resolve(trustDomain: string, kid: string): TrustedKey | undefined;
}

/** JWT-SVIDs longer than this are refused before any parsing. */
export const MAX_JWT_SVID_BYTES = 8 * 1024;
/** SPIFFE JWT-SVID signature algorithms (RS*, ES*, PS*); never `none`, never HMAC. */
export const JWT_SVID_ALGORITHMS: ReadonlySet<string> = new Set(['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512']);

/**
 * A TLS client's certificate chain (leaf first) as an X.509-SVID: exactly one
 * URI SAN naming a workload of a trust domain, chaining to that domain's X.509
 * authorities (never another domain's), not a CA, valid at `nowMs`.
 */
export function peerFromCertificates(certs: readonly X509Certificate[], trust: PeerTrust, nowMs: number): PeerResult {
  const leaf = certs[0];
  if (leaf === undefined) return { ok: false, error: 'no client certificate' };
  const sans = uriSans(leaf);
  if (sans.length !== 1) return { ok: false, error: `the client certificate has ${sans.length} URI SANs; an X.509-SVID has exactly one` };
  const id = sans[0]!;
  const td = trustDomainOf(id);
  if (td === undefined) return { ok: false, error: `the client certificate's URI SAN ${JSON.stringify(id.slice(0, 200))} is not a workload SPIFFE ID` };
  const r = checkX5c([...certs], trust.authorities(td), id, Math.floor(nowMs / 1000));
  if (!r.ok) return { ok: false, error: `client certificate for ${id}: ${r.error}` };
  return { ok: true, peer: { id, method: 'mtls' } };
}

export interface JwtSvidOptions {
  /** The token's `aud` must include one of these. */
  audiences: readonly string[];
  skewSec: number;
}

/**
 * A bearer token as a JWT-SVID: `kid` names a `jwt-svid` key of the trust
 * domain of its `sub`; allowlisted algorithm; `exp` required; `aud` includes
 * a configured audience. The peer is `sub`.
 */
export async function peerFromJwtSvid(token: string, trust: PeerTrust, opts: JwtSvidOptions, nowMs: number): Promise<PeerResult> {
  if (token.length > MAX_JWT_SVID_BYTES) return { ok: false, error: `the bearer token is over ${MAX_JWT_SVID_BYTES} bytes` };
  let kid: unknown;
  let alg: unknown;
  let sub: unknown;
  try {
    ({ kid, alg } = decodeProtectedHeader(token));
    ({ sub } = decodeJwt(token));
  } catch {
    return { ok: false, error: 'the bearer token is not a JWT' };
  }
  if (typeof alg !== 'string' || !JWT_SVID_ALGORITHMS.has(alg)) return { ok: false, error: `JWT-SVID algorithm ${JSON.stringify(String(alg).slice(0, 20))} is not allowed` };
  if (typeof kid !== 'string') return { ok: false, error: 'the JWT-SVID has no kid' };
  const td = typeof sub === 'string' ? trustDomainOf(sub) : undefined;
  if (td === undefined) return { ok: false, error: 'the JWT-SVID sub is not a workload SPIFFE ID' };
  const key = trust.resolve(td, kid);
  if (key === undefined || key.use !== 'jwt-svid') return { ok: false, error: `trust domain ${td} has no jwt-svid key ${JSON.stringify(kid.slice(0, 100))}` };
  const algorithms = [...key.algorithms].filter((a) => JWT_SVID_ALGORITHMS.has(a));
  if (!algorithms.includes(alg as never)) return { ok: false, error: `key ${kid} of ${td} does not serve ${alg}` };
  try {
    await jwtVerify(token, key.key, {
      algorithms,
      audience: [...opts.audiences],
      requiredClaims: ['exp', 'sub', 'aud'],
      clockTolerance: opts.skewSec,
      currentDate: new Date(nowMs),
    });
  } catch (e) {
    const why = e instanceof joseErrors.JWTExpired ? 'expired' : e instanceof joseErrors.JWTClaimValidationFailed ? `claim ${e.claim} ${e.reason}` : 'signature or claims invalid';
    return { ok: false, error: `JWT-SVID for ${sub as string}: ${why}` };
  }
  return { ok: true, peer: { id: sub as string, method: 'jwt-svid' } };
}

/** The token of an `Authorization: Bearer` header; undefined when there is none, null when it is malformed. */
export function bearerToken(header: string | undefined): string | undefined | null {
  if (header === undefined) return undefined;
  const m = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(header);
  return m ? m[1]! : null;
}
