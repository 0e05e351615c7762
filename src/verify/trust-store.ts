/**
 * Trust bundles: one JWKS per trust domain, never merged across domains.
 * Keys are imported once (jose importJWK → node KeyObject) when a bundle is
 * loaded, so verification never imports a key.
 *
 * Two extra JWK members bind a key to what it may sign:
 *  - `chainsight_role: "authorization"`: the trust domain's authorization key,
 *    the only key that may sign a root link (a human authorizing an agent);
 *  - `chainsight_principal: "<spiffe id>"`: an agent's key; it may sign only
 *    links whose `iss` is that agent.
 */
import { readFile, readdir } from 'node:fs/promises';
import { KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { importJWK, type JWK } from 'jose';
import { SUPPORTED_ALGORITHMS, type SignatureAlgorithm } from './policy.js';
import { isTrustDomainName, trustDomainOf } from './spiffe.js';

export const BUNDLE_SUFFIX = '.jwks.json';
export const AUTHORIZATION_ROLE = 'authorization';

/** A public JWK with chainsight's binding members. */
export interface ChainsightJwk extends JWK {
  chainsight_role?: string;
  chainsight_principal?: string;
}

export interface Jwks {
  keys: ChainsightJwk[];
}

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
}

export class TrustStoreError extends Error {
  override name = 'TrustStoreError';
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

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

async function importKey(trustDomain: string, jwk: ChainsightJwk, where: string): Promise<TrustedKey> {
  if (typeof jwk !== 'object' || jwk === null) throw new TrustStoreError(`${where}: key is not an object`);
  if (typeof jwk.kid !== 'string' || jwk.kid.length === 0) throw new TrustStoreError(`${where}: key has no kid`);
  const at = `${where} kid ${jwk.kid}`;
  for (const m of PRIVATE_MEMBERS) {
    if (m in jwk) throw new TrustStoreError(`${at}: a trust bundle must hold public keys only (found "${m}")`);
  }
  if (jwk.use !== undefined && jwk.use !== 'sig') throw new TrustStoreError(`${at}: use must be "sig"`);
  let algs = algorithmsFor(jwk);
  if (jwk.alg !== undefined) {
    if (!algs.includes(jwk.alg as SignatureAlgorithm)) throw new TrustStoreError(`${at}: alg ${jwk.alg} does not fit a ${jwk.kty} key or is not supported`);
    algs = [jwk.alg as SignatureAlgorithm];
  }
  if (algs.length === 0) throw new TrustStoreError(`${at}: unsupported key type ${String(jwk.kty)}/${String(jwk.crv)} (supported: ${SUPPORTED_ALGORITHMS.join(', ')})`);
  if (jwk.chainsight_role !== undefined && jwk.chainsight_role !== AUTHORIZATION_ROLE) {
    throw new TrustStoreError(`${at}: chainsight_role must be "${AUTHORIZATION_ROLE}"`);
  }
  if (jwk.chainsight_principal !== undefined) {
    // One key, one job: an agent's key must never also sign roots.
    if (jwk.chainsight_role !== undefined) throw new TrustStoreError(`${at}: a key cannot carry both chainsight_role and chainsight_principal`);
    if (typeof jwk.chainsight_principal !== 'string' || trustDomainOf(jwk.chainsight_principal) !== trustDomain) {
      throw new TrustStoreError(`${at}: chainsight_principal must be a SPIFFE ID in trust domain ${trustDomain}`);
    }
  }
  let key: KeyObject;
  try {
    const imported = await importJWK({ ...jwk, ext: true }, algs[0]);
    if (imported instanceof Uint8Array) throw new Error('symmetric key');
    key = KeyObject.from(imported);
  } catch (e) {
    throw new TrustStoreError(`${at}: cannot import key: ${(e as Error).message}`);
  }
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new TrustStoreError(`${at}: RSA keys must have at least 2048 bits`);
  }
  const out: TrustedKey = { trustDomain, kid: jwk.kid, algorithms: new Set(algs), key };
  if (jwk.chainsight_role !== undefined) out.role = jwk.chainsight_role;
  if (jwk.chainsight_principal !== undefined) out.principal = jwk.chainsight_principal;
  return out;
}

async function importBundle(trustDomain: string, bundle: unknown, where: string): Promise<Map<string, TrustedKey>> {
  if (!isTrustDomainName(trustDomain)) throw new TrustStoreError(`${where}: "${trustDomain}" is not a valid trust domain name`);
  const keys = (bundle as Jwks | null)?.keys;
  if (!Array.isArray(keys)) throw new TrustStoreError(`${where}: not a JWKS (no "keys" array)`);
  const byKid = new Map<string, TrustedKey>();
  for (const jwk of keys) {
    const k = await importKey(trustDomain, jwk, where);
    if (byKid.has(k.kid)) throw new TrustStoreError(`${where}: duplicate kid ${k.kid}`);
    byKid.set(k.kid, k);
  }
  return byKid;
}

export class TrustStore {
  private domains: Map<string, Map<string, TrustedKey>>;
  private gen = 0;

  private constructor(
    domains: Map<string, Map<string, TrustedKey>>,
    private readonly dir?: string,
  ) {
    this.domains = domains;
  }

  /** Load every `<trust-domain>.jwks.json` in `dir`. Throws on any invalid bundle. */
  static async fromDirectory(dir: string): Promise<TrustStore> {
    return new TrustStore(await TrustStore.readDirectory(dir), dir);
  }

  /** Build from in-memory bundles keyed by trust domain (tests, remote fetchers). */
  static async fromBundles(bundles: Record<string, Jwks>): Promise<TrustStore> {
    const domains = new Map<string, Map<string, TrustedKey>>();
    for (const [td, b] of Object.entries(bundles)) domains.set(td, await importBundle(td, b, `bundle ${td}`));
    return new TrustStore(domains);
  }

  private static async readDirectory(dir: string): Promise<Map<string, Map<string, TrustedKey>>> {
    const domains = new Map<string, Map<string, TrustedKey>>();
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (e) {
      throw new TrustStoreError(`cannot read trust directory ${dir}: ${(e as Error).message}`);
    }
    for (const name of names.sort()) {
      if (!name.endsWith(BUNDLE_SUFFIX)) continue;
      const td = name.slice(0, -BUNDLE_SUFFIX.length);
      const path = join(dir, name);
      let json: unknown;
      try {
        json = JSON.parse(await readFile(path, 'utf8'));
      } catch (e) {
        throw new TrustStoreError(`${path}: ${(e as Error).message}`);
      }
      domains.set(td, await importBundle(td, json, path));
    }
    return domains;
  }

  /**
   * Re-read the directory. On error the old keys stay in force and the error
   * is thrown. Bumps `generation`, which tells verifiers to drop their caches.
   */
  async reload(): Promise<void> {
    if (this.dir === undefined) throw new TrustStoreError('this trust store was not loaded from a directory');
    this.domains = await TrustStore.readDirectory(this.dir);
    this.gen++;
  }

  /** Increases on every reload; caches built on an older generation are stale. */
  get generation(): number {
    return this.gen;
  }

  hasTrustDomain(trustDomain: string): boolean {
    return this.domains.has(trustDomain);
  }

  /** The key `kid` of `trustDomain`'s bundle; never a key from another domain. */
  resolve(trustDomain: string, kid: string): TrustedKey | undefined {
    return this.domains.get(trustDomain)?.get(kid);
  }

  trustDomains(): string[] {
    return [...this.domains.keys()];
  }
}
