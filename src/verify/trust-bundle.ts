/**
 * One trust bundle file → the keys it vouches for, and what it refused.
 *
 * Every key is judged on its own: a bad key is refused with a reason naming
 * its `kid` and the rest of the bundle loads. A few faults make the whole
 * file untrustworthy and refuse it entirely: unreadable or not JSON, not a
 * JWKS, a file name that is not a trust domain, or a file whose contents
 * belong to another trust domain (a misnamed file would otherwise make that
 * domain's authorization key sign roots here).
 */
import { createHash, createPublicKey, KeyObject, X509Certificate, type JsonWebKey } from 'node:crypto';
import { importJWK, type JWK } from 'jose';
import { SUPPORTED_ALGORITHMS, type SignatureAlgorithm } from './policy.js';
import { isTrustDomainName, trustDomainOf } from './spiffe.js';

export const BUNDLE_SUFFIX = '.jwks.json';
export const AUTHORIZATION_ROLE = 'authorization';
/** The role of the trust domain's security token service key: it alone signs token-exchange tokens (spec §11). */
export const STS_ROLE = 'sts';
/** Largest bundle file read; a JWKS of a few hundred keys is far below it. */
export const MAX_BUNDLE_BYTES = 1024 * 1024;
export const MIN_RSA_BITS = 2048;
/** Past this, one forged signature of the right length costs a verifier too much work. */
export const MAX_RSA_BITS = 8192;

/** A public JWK with chainsight's binding members. */
export interface ChainsightJwk extends JWK {
  chainsight_role?: string;
  chainsight_principal?: string;
}

export interface Jwks {
  keys: ChainsightJwk[];
  /** Optional: the trust domain this bundle is for; must match the file name. */
  chainsight_trust_domain?: string;
  /** SPIFFE bundle: increases with every change of the bundle. */
  spiffe_sequence?: number;
  /** SPIFFE bundle: seconds after which the bundle should be fetched again. */
  spiffe_refresh_hint?: number;
}

/** JWK `use` values: a signing key (`sig`, SPIFFE `jwt-svid`) or an X.509 authority (`x509-svid`). */
export const SIGNING_USES: ReadonlySet<string> = new Set(['sig', 'jwt-svid']);
export const X509_AUTHORITY_USE = 'x509-svid';

export interface TrustedKey {
  trustDomain: string;
  kid: string;
  /** Algorithms this key can verify (from its type, narrowed by its `alg` member). */
  algorithms: ReadonlySet<SignatureAlgorithm>;
  key: KeyObject;
  /** 'authorization' for the domain's authorization key. */
  role?: string;
  /** The agent this key belongs to. */
  principal?: string;
  /** The JWK's `use` when it had one: only `jwt-svid` keys verify JWT-SVIDs. */
  use?: string;
}

/** A key the bundle holds but chainsight will not use, and why. */
export interface KeyRefusal {
  /** Position in the `keys` array. */
  index: number;
  /** The key's `kid`, when it has a string one. */
  kid?: string;
  reason: string;
  /** The key carried private members: its private half has leaked into a public file. */
  privateMaterial?: boolean;
}

/** What one bundle file yields. */
export interface BundleResult {
  trustDomain: string;
  /** Where it came from (a path, or a label for in-memory bundles). */
  source: string;
  /** Keys accepted, by kid. Empty when the bundle was refused. */
  keys: Map<string, TrustedKey>;
  /** X.509 authorities (`use: "x509-svid"` keys): what an `x5c` leaf must chain to. */
  authorities: X509Certificate[];
  /** SPIFFE `spiffe_sequence` and `spiffe_refresh_hint` (seconds), when the bundle has them. */
  sequence?: number;
  refreshHintSec?: number;
  refusedKeys: KeyRefusal[];
  /** Set when the whole bundle was refused: no key of it is trusted. */
  error?: string;
  /** Digest of what the accepted keys are and may sign: equal digests, equal trust. */
  fingerprint: string;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

class KeyRefused extends Error {}

/** Which algorithms a JWK's key type can serve. */
function algorithmsFor(jwk: ChainsightJwk): SignatureAlgorithm[] {
  switch (jwk.kty) {
    case 'OKP':
      return jwk.crv === 'Ed25519' ? ['EdDSA'] : [];
    case 'EC':
      return jwk.crv === 'P-256' ? ['ES256'] : jwk.crv === 'P-384' ? ['ES384'] : [];
    case 'RSA':
      return ['PS256', 'RS256'];
    default:
      return [];
  }
}

function describe(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v.slice(0, 64)) : String(v);
}

async function importKey(trustDomain: string, jwk: ChainsightJwk): Promise<TrustedKey> {
  const kid = jwk.kid as string;
  if (jwk.use !== undefined && !SIGNING_USES.has(jwk.use)) throw new KeyRefused(`use must be "sig" (or "jwt-svid"; "x509-svid" for an X.509 authority), not ${describe(jwk.use)}`);
  let algs = algorithmsFor(jwk);
  if (algs.length === 0) {
    throw new KeyRefused(`unsupported key type kty ${describe(jwk.kty)} crv ${describe(jwk.crv)} (supported: Ed25519, P-256, P-384, RSA of ${MIN_RSA_BITS}–${MAX_RSA_BITS} bits, for ${SUPPORTED_ALGORITHMS.join(', ')})`);
  }
  if (jwk.alg !== undefined) {
    if (!algs.includes(jwk.alg as SignatureAlgorithm)) throw new KeyRefused(`alg ${describe(jwk.alg)} does not fit a ${jwk.kty} key or is not supported`);
    algs = [jwk.alg as SignatureAlgorithm];
  }
  if (jwk.chainsight_role !== undefined && jwk.chainsight_role !== AUTHORIZATION_ROLE && jwk.chainsight_role !== STS_ROLE) {
    throw new KeyRefused(`chainsight_role must be "${AUTHORIZATION_ROLE}" or "${STS_ROLE}", not ${describe(jwk.chainsight_role)}`);
  }
  if (jwk.chainsight_principal !== undefined) {
    // One key, one job: an agent's key must never also sign roots.
    if (jwk.chainsight_role !== undefined) throw new KeyRefused('a key cannot carry both chainsight_role and chainsight_principal');
    if (typeof jwk.chainsight_principal !== 'string' || trustDomainOf(jwk.chainsight_principal) === undefined) {
      throw new KeyRefused(`chainsight_principal ${describe(jwk.chainsight_principal)} is not a workload SPIFFE ID`);
    }
  }
  let key: KeyObject;
  try {
    const imported = await importJWK({ ...jwk, ext: true }, algs[0]);
    if (imported instanceof Uint8Array) throw new Error('symmetric key');
    key = KeyObject.from(imported);
  } catch (e) {
    throw new KeyRefused(`cannot import key: ${(e as Error).message}`);
  }
  // Checked on the imported key, so the JWK's own claims about its size are never trusted.
  if (key.type !== 'public') throw new KeyRefused(`not a public key (${key.type})`);
  if (key.asymmetricKeyType === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) throw new KeyRefused(`RSA key of ${bits} bits; at least ${MIN_RSA_BITS} are required`);
    if (bits > MAX_RSA_BITS) throw new KeyRefused(`RSA key of ${bits} bits; at most ${MAX_RSA_BITS} are accepted`);
  }
  const out: TrustedKey = { trustDomain, kid, algorithms: new Set(algs), key };
  if (jwk.chainsight_role !== undefined) out.role = jwk.chainsight_role;
  if (jwk.chainsight_principal !== undefined) out.principal = jwk.chainsight_principal;
  if (jwk.use !== undefined) out.use = jwk.use;
  return out;
}

/**
 * A SPIFFE X.509 authority: `x5c` holds exactly one CA certificate, whose
 * public key must be the JWK's own (so the JWK members cannot say one key
 * while the certificate says another).
 */
function importAuthority(jwk: ChainsightJwk): X509Certificate {
  if (jwk.chainsight_role !== undefined || jwk.chainsight_principal !== undefined) throw new KeyRefused('an X.509 authority cannot carry chainsight_role or chainsight_principal');
  if (!Array.isArray(jwk.x5c) || jwk.x5c.length !== 1 || typeof jwk.x5c[0] !== 'string') throw new KeyRefused('an x509-svid key must carry exactly one certificate in x5c');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(Buffer.from(jwk.x5c[0], 'base64'));
  } catch (e) {
    throw new KeyRefused(`x5c is not an X.509 certificate: ${(e as Error).message}`);
  }
  if (!cert.ca) throw new KeyRefused('the x509-svid certificate is not a CA certificate');
  const key = cert.publicKey;
  if (key.asymmetricKeyType === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) throw new KeyRefused(`RSA authority of ${bits} bits; ${MIN_RSA_BITS}–${MAX_RSA_BITS} are accepted`);
  } else if (key.asymmetricKeyType !== 'ec' && key.asymmetricKeyType !== 'ed25519') {
    throw new KeyRefused(`unsupported authority key type ${describe(key.asymmetricKeyType)}`);
  }
  let same: boolean;
  try {
    same = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }).equals(key);
  } catch (e) {
    throw new KeyRefused(`the JWK key members cannot be read: ${(e as Error).message}`);
  }
  if (!same) throw new KeyRefused('the JWK key members do not match the x5c certificate');
  return cert;
}

function keyFingerprint(k: TrustedKey): string {
  const der = k.key.export({ type: 'spki', format: 'der' }).toString('base64');
  return JSON.stringify([k.kid, [...k.algorithms].sort(), k.role ?? '', k.principal ?? '', der]);
}

function fingerprintOf(trustDomain: string, keys: Map<string, TrustedKey>, authorities: X509Certificate[]): string {
  const h = createHash('sha256').update(trustDomain);
  for (const kid of [...keys.keys()].sort()) h.update('\n' + keyFingerprint(keys.get(kid) as TrustedKey));
  for (const fp of authorities.map((a) => a.fingerprint256).sort()) h.update('\nx509 ' + fp);
  return h.digest('base64url');
}

function refused(trustDomain: string, source: string, error: string): BundleResult {
  return { trustDomain, source, keys: new Map(), authorities: [], refusedKeys: [], error, fingerprint: '' };
}

/** The trust domain a bundle's file name names, or undefined when it is not a bundle file. */
export function trustDomainOfFileName(name: string): string | undefined {
  return name.endsWith(BUNDLE_SUFFIX) ? name.slice(0, -BUNDLE_SUFFIX.length) : undefined;
}

/**
 * Judge a parsed bundle for `trustDomain`. Keys are refused one by one;
 * a bundle-level fault refuses everything (`error`).
 */
export async function importBundle(trustDomain: string, bundle: unknown, source: string): Promise<BundleResult> {
  if (!isTrustDomainName(trustDomain)) return refused(trustDomain, source, `"${trustDomain}" is not a valid trust domain name (lower-case letters, digits, ".", "-", "_")`);
  if (typeof bundle !== 'object' || bundle === null || Array.isArray(bundle)) return refused(trustDomain, source, 'not a JWKS: expected a JSON object');
  const { keys: list, chainsight_trust_domain: declared, spiffe_sequence: sequence, spiffe_refresh_hint: hint } = bundle as Partial<Jwks>;
  if (!Array.isArray(list)) return refused(trustDomain, source, 'not a JWKS: no "keys" array');
  if (sequence !== undefined && !(Number.isSafeInteger(sequence) && sequence >= 0)) return refused(trustDomain, source, `spiffe_sequence ${describe(sequence)} is not a non-negative integer`);
  if (hint !== undefined && !(Number.isSafeInteger(hint) && hint > 0)) return refused(trustDomain, source, `spiffe_refresh_hint ${describe(hint)} is not a positive integer (seconds)`);
  if (declared !== undefined && declared !== trustDomain) {
    return refused(trustDomain, source, `the bundle declares trust domain ${describe(declared)} but its file name says ${trustDomain}`);
  }
  // A key bound to another domain's agent means the file is not this domain's bundle.
  for (const jwk of list as unknown[]) {
    const principal = (jwk as ChainsightJwk | null)?.chainsight_principal;
    if (typeof principal !== 'string') continue;
    const td = trustDomainOf(principal);
    if (td !== undefined && td !== trustDomain) {
      return refused(trustDomain, source, `key ${describe((jwk as ChainsightJwk).kid)} belongs to ${principal}, in trust domain ${td}: this file is not ${trustDomain}'s bundle`);
    }
  }

  const refusedKeys: KeyRefusal[] = [];
  const byKid = new Map<string, TrustedKey>();
  const authorities: X509Certificate[] = [];
  const seen = new Map<string, number>();
  for (const k of list as unknown[]) {
    const c = k as ChainsightJwk | null;
    if (typeof c?.kid === 'string' && c.use !== X509_AUTHORITY_USE) seen.set(c.kid, (seen.get(c.kid) ?? 0) + 1);
  }
  for (let index = 0; index < list.length; index++) {
    const jwk = list[index] as unknown;
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
      refusedKeys.push({ index, reason: 'key is not a JSON object' });
      continue;
    }
    const c = jwk as ChainsightJwk;
    if (c.use === X509_AUTHORITY_USE) {
      // SPIFFE makes kid optional for X.509 authorities: they are found by certificate, not by kid.
      const kid = typeof c.kid === 'string' ? c.kid : undefined;
      const priv = PRIVATE_MEMBERS.filter((m) => m in c);
      try {
        if (priv.length > 0) throw new KeyRefused(`private key material (${priv.join(', ')}) in a trust bundle: refused; treat this key as exposed and replace it`);
        authorities.push(importAuthority(c));
      } catch (e) {
        if (!(e instanceof KeyRefused)) throw e;
        refusedKeys.push({ index, ...(kid === undefined ? {} : { kid }), ...(priv.length > 0 ? { privateMaterial: true } : {}), reason: e.message });
      }
      continue;
    }
    if (typeof c.kid !== 'string' || c.kid.length === 0) {
      refusedKeys.push({ index, reason: 'key has no kid' });
      continue;
    }
    const kid = c.kid;
    const priv = PRIVATE_MEMBERS.filter((m) => m in c);
    if (priv.length > 0) {
      // Never imported: a private JWK would import as its public half, hiding the leak.
      refusedKeys.push({ index, kid, privateMaterial: true, reason: `private key material (${priv.join(', ')}) in a trust bundle: refused; treat this key as exposed and replace it` });
      continue;
    }
    if ((seen.get(kid) ?? 0) > 1) {
      // Which of the two is meant cannot be known, so neither is trusted.
      refusedKeys.push({ index, kid, reason: `kid appears ${seen.get(kid)} times in the bundle; none of them is trusted` });
      continue;
    }
    try {
      byKid.set(kid, await importKey(trustDomain, c));
    } catch (e) {
      if (!(e instanceof KeyRefused)) throw e;
      refusedKeys.push({ index, kid, reason: e.message });
    }
  }
  const out: BundleResult = { trustDomain, source, keys: byKid, authorities, refusedKeys, fingerprint: fingerprintOf(trustDomain, byKid, authorities) };
  if (sequence !== undefined) out.sequence = sequence;
  if (hint !== undefined) out.refreshHintSec = hint;
  return out;
}

/** Judge a bundle file's text (see importBundle); text that is not JSON refuses the bundle. */
export async function importBundleText(trustDomain: string, text: string, source: string): Promise<BundleResult> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return refused(trustDomain, source, `invalid JSON: ${(e as Error).message}`);
  }
  return importBundle(trustDomain, json, source);
}

/** A bundle-level refusal for a file that could not be read (exported for the directory loader). */
export function refusedBundle(trustDomain: string, source: string, error: string): BundleResult {
  return refused(trustDomain, source, error);
}
