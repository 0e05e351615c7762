/**
 * Time-independent checks of one link on its own: size, parse, algorithm,
 * claims, lifetime, root shape, key resolution and binding, signature.
 * The result depends only on the token text, whether it sits at the root,
 * the trust store and the policy, so it is cached per (position kind, hash).
 */
import type { LinkClaims, VerifiedLink } from '../model/delegation.js';
import type { ReasonCode } from '../model/verdict.js';
import { claimRuleErrors, validateClaimsSchema } from './claims.js';
import type { SignatureAlgorithm, VerifyPolicy } from './policy.js';
import { algorithmsForKey, verifySignature } from './signature.js';
import { checkX5c, parseX5c } from './trust-x509.js';
import { isSpiffeId, trustDomainOf } from './spiffe.js';
import { parseToken, tokenHash } from './token.js';
import { AUTHORIZATION_ROLE, type TrustStore } from './trust-store.js';

/** A reason before it is placed at a link index. */
export interface LinkReason {
  code: ReasonCode;
  message: string;
}

export interface LinkResult {
  /** base64url(SHA-256(token)). */
  hash: string;
  /** Present when the claims decoded and passed the schema (even if other checks failed). */
  link?: VerifiedLink;
  reasons: LinkReason[];
  /**
   * The trust domain whose bundle lacked what this link needed (no bundle, no
   * such kid, no authority for its certificate): a fresher bundle might verify it.
   */
  wantsFresherBundle?: string;
}

export interface LinkCheckContext {
  trust: TrustStore;
  policy: VerifyPolicy;
  allowedAlgorithms: ReadonlySet<string>;
  /** Called once per signature actually verified (observability, tests). */
  onSignatureCheck: () => void;
}

export function checkLink(token: string, isRoot: boolean, hash: string | undefined, ctx: LinkCheckContext): LinkResult {
  const reasons: LinkReason[] = [];
  const h = hash ?? tokenHash(token);
  const bytes = Buffer.byteLength(token, 'utf8');
  if (bytes > ctx.policy.maxTokenBytes) {
    reasons.push({ code: 'token.too_large', message: `token is ${bytes} bytes, limit ${ctx.policy.maxTokenBytes}` });
    return { hash: h, reasons };
  }
  const parsed = parseToken(token);
  if (!parsed.ok) {
    reasons.push({ code: 'token.malformed', message: parsed.error });
    return { hash: h, reasons };
  }
  const { header, payload, signingInput, signature } = parsed.token;
  const alg = header.alg;
  const algAllowed = ctx.allowedAlgorithms.has(alg);
  if (!algAllowed) reasons.push({ code: 'signature.algorithm_forbidden', message: `alg ${JSON.stringify(alg)} is not allowed` });

  const schema = validateClaimsSchema(payload);
  if (!schema.ok) {
    reasons.push({ code: 'token.claims_invalid', message: schema.error });
    return { hash: h, reasons };
  }
  const c: LinkClaims = schema.claims;
  for (const e of claimRuleErrors(c, isRoot, ctx.policy.clockSkewSec)) reasons.push({ code: 'token.claims_invalid', message: e });
  if (c.exp - c.iat > ctx.policy.maxLifetimeSec) {
    reasons.push({ code: 'time.lifetime_exceeded', message: `lifetime ${c.exp - c.iat}s exceeds ${ctx.policy.maxLifetimeSec}s` });
  }

  // Which bundle may hold the signer's key.
  let trustDomain: string | undefined;
  if (isRoot) {
    if (isSpiffeId(c.iss) || /^spiffe:/i.test(c.iss)) reasons.push({ code: 'chain.root_invalid', message: `root issuer must be a human account, not ${c.iss}` });
    if (c.prf !== undefined) reasons.push({ code: 'chain.root_invalid', message: 'root link must not carry prf' });
    trustDomain = trustDomainOf(c.sub);
  } else {
    trustDomain = trustDomainOf(c.iss);
  }
  const link: VerifiedLink = { hash: h, claims: c, kid: header.kid, alg, trustDomain: trustDomain ?? '' };

  let wantsFresherBundle: string | undefined;
  if (algAllowed) {
    if (trustDomain === undefined) {
      reasons.push({ code: 'signature.unknown_trust_domain', message: `issuer ${c.iss} is not an agent SPIFFE ID, so no trust domain holds its key` });
    } else if (!ctx.trust.hasTrustDomain(trustDomain)) {
      reasons.push({ code: 'signature.unknown_trust_domain', message: `no trust bundle for ${trustDomain}` });
      wantsFresherBundle = trustDomain;
    } else if (header.x5c !== undefined) {
      const r = checkCertificateSigner(header.x5c, isRoot, trustDomain, c, alg, signingInput, signature, ctx);
      if (r !== undefined) reasons.push(r);
      if (r?.untrustedAuthority) wantsFresherBundle = trustDomain;
    } else {
      const key = ctx.trust.resolve(trustDomain, header.kid);
      if (key === undefined) {
        reasons.push({ code: 'signature.unknown_key', message: `no key ${header.kid} in trust domain ${trustDomain}` });
        wantsFresherBundle = trustDomain;
      } else if (isRoot ? key.role !== AUTHORIZATION_ROLE : key.principal !== c.iss) {
        reasons.push({
          code: 'signature.key_not_bound',
          message: isRoot
            ? `key ${header.kid} is not ${trustDomain}'s authorization key, so it cannot sign a root link`
            : `key ${header.kid} is bound to ${key.principal ?? (key.role ? `role ${key.role}` : 'no principal')}, not to issuer ${c.iss}`,
        });
      } else if (!key.algorithms.has(alg as SignatureAlgorithm)) {
        // Said apart from a bad signature: the key was never tried, the link names an algorithm
        // its key does not serve (a misconfigured producer, or an algorithm substitution).
        reasons.push({ code: 'signature.algorithm_mismatch', message: `header alg ${alg} is not what key ${header.kid} serves (${[...key.algorithms].join(', ')})` });
      } else {
        ctx.onSignatureCheck();
        if (!verifySignature(alg as SignatureAlgorithm, key.key, signingInput, signature)) {
          reasons.push({ code: 'signature.invalid', message: `signature does not verify with key ${header.kid}` });
        }
      }
    }
  }
  return wantsFresherBundle === undefined ? { hash: h, link, reasons } : { hash: h, link, reasons, wantsFresherBundle };
}

/**
 * A link signed with an X.509-SVID (`x5c`): the key is the leaf certificate's,
 * which must chain to the trust domain's X.509 authorities and name the
 * issuer; the link may not outlive the certificate. Root links are signed by
 * the authorization key only, never by an agent's certificate.
 */
function checkCertificateSigner(
  x5c: unknown,
  isRoot: boolean,
  trustDomain: string,
  c: LinkClaims,
  alg: string,
  signingInput: Buffer,
  signature: Buffer,
  ctx: LinkCheckContext,
): (LinkReason & { untrustedAuthority?: boolean }) | undefined {
  if (isRoot) return { code: 'signature.key_not_bound', message: "a root link is signed by the trust domain's authorization key, not by an X.509-SVID (x5c)" };
  const certs = parseX5c(x5c);
  if (typeof certs === 'string') return { code: 'signature.certificate_invalid', message: certs };
  const authorities = ctx.trust.authorities(trustDomain);
  const r = checkX5c(certs, authorities, c.iss, c.iat);
  if (!r.ok) return { code: 'signature.certificate_invalid', message: r.error, untrustedAuthority: r.unanchored === true };
  const notAfter = Math.floor(Date.parse(r.leaf.validTo) / 1000);
  if (c.exp > notAfter + ctx.policy.clockSkewSec) {
    return { code: 'time.outlives_parent', message: `the link expires at ${c.exp}, after its signing certificate (${r.leaf.validTo})` };
  }
  if (!algorithmsForKey(r.key).includes(alg as SignatureAlgorithm)) {
    return { code: 'signature.algorithm_mismatch', message: `header alg ${alg} is not what the certificate's key serves (${algorithmsForKey(r.key).join(', ') || 'none'})` };
  }
  ctx.onSignatureCheck();
  if (!verifySignature(alg as SignatureAlgorithm, r.key, signingInput, signature)) {
    return { code: 'signature.invalid', message: "signature does not verify with the x5c certificate's key" };
  }
  return undefined;
}
