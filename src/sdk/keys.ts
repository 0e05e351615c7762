/**
 * Key material for delegation links: Ed25519 key pairs for agents and for a
 * trust domain's authorization key. Public keys go to the domain's JWKS
 * (`<dir>/<trust-domain>.jwks.json`, the file a verifier loads); private keys
 * stay in JWK files under a private directory (default `<dir>/private/`).
 * Keep that directory off verifier hosts in production.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { AUTHORIZATION_ROLE, BUNDLE_SUFFIX, STS_ROLE, type ChainsightJwk, type Jwks } from '../verify/trust-store.js';
import { isTrustDomainName, trustDomainOf } from '../verify/spiffe.js';

export const KEY_ALGORITHM = 'EdDSA';

/** A private key ready to sign links, with who it speaks for. */
export interface SigningKey {
  kid: string;
  alg: string;
  trustDomain: string;
  /** Agent SPIFFE ID this key belongs to (agent keys). */
  principal?: string;
  /** 'authorization' for the trust domain's authorization key, 'sts' for its STS key. */
  role?: string;
  key: CryptoKey;
}

/** What a private key file holds: a private JWK plus chainsight's binding members. */
export interface PrivateKeyFile extends ChainsightJwk {
  chainsight_trust_domain: string;
}

export interface KeygenOptions {
  /** Directory holding `<trust-domain>.jwks.json`. */
  dir: string;
  trustDomain: string;
  /** Agent SPIFFE ID (for an agent key); exclusive with `authorization`. */
  principal?: string;
  /** Make the trust domain's authorization key. */
  authorization?: boolean;
  /** Make the trust domain's STS key (signs token-exchange tokens, spec §11). */
  sts?: boolean;
  /** Where private keys go (default `<dir>/private`). */
  privateDir?: string;
}

export interface GeneratedKey {
  signingKey: SigningKey;
  publicJwk: ChainsightJwk;
  bundlePath: string;
  privatePath: string;
}

export class KeyError extends Error {
  override name = 'KeyError';
}

export function bundlePath(dir: string, trustDomain: string): string {
  return join(dir, trustDomain + BUNDLE_SUFFIX);
}

/** File name of a private key: the SPIFFE ID's authority and path, or `<domain>@authorization`. */
export function privateKeyFileName(trustDomain: string, principal?: string, role: string = AUTHORIZATION_ROLE): string {
  const stem = principal === undefined ? `${trustDomain}@${role}` : principal.slice('spiffe://'.length).replaceAll('/', '__');
  return `${stem}.jwk.json`;
}

export async function readBundle(dir: string, trustDomain: string): Promise<Jwks> {
  try {
    const json = JSON.parse(await readFile(bundlePath(dir, trustDomain), 'utf8')) as Jwks;
    if (!Array.isArray(json.keys)) throw new KeyError(`${bundlePath(dir, trustDomain)} has no keys array`);
    return json;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { keys: [] };
    throw e;
  }
}

/** Write via a temporary file and rename, so a reloading verifier never reads half a bundle. */
async function writeAtomic(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode });
  await rename(tmp, path);
}

/** Add public keys to a domain's bundle (replacing any with the same kid). */
export async function addToBundle(dir: string, trustDomain: string, jwks: ChainsightJwk[]): Promise<string> {
  await mkdir(dir, { recursive: true });
  const bundle = await readBundle(dir, trustDomain);
  const kids = new Set(jwks.map((k) => k.kid));
  const keys = bundle.keys.filter((k) => !kids.has(k.kid)).concat(jwks);
  const path = bundlePath(dir, trustDomain);
  // The declared domain lets a verifier refuse the file if it is ever saved under another domain's name.
  const out: Jwks = { ...bundle, chainsight_trust_domain: trustDomain, keys };
  await writeAtomic(path, JSON.stringify(out, null, 2) + '\n', 0o644);
  return path;
}

/** Generate an Ed25519 key pair, add its public half to the domain's bundle, save the private half. */
export async function generateKey(opts: KeygenOptions): Promise<GeneratedKey> {
  const { dir, trustDomain, principal, authorization, sts } = opts;
  if (!isTrustDomainName(trustDomain)) throw new KeyError(`"${trustDomain}" is not a valid trust domain name`);
  if ([principal !== undefined, authorization === true, sts === true].filter(Boolean).length !== 1) throw new KeyError('give exactly one of principal, authorization or sts');
  const role = sts ? STS_ROLE : authorization ? AUTHORIZATION_ROLE : undefined;
  if (principal !== undefined && trustDomainOf(principal) !== trustDomain) {
    throw new KeyError(`principal ${principal} is not a SPIFFE ID in trust domain ${trustDomain}`);
  }
  const { publicKey, privateKey } = await generateKeyPair(KEY_ALGORITHM, { extractable: true });
  const pub = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(pub, 'sha256');
  const binding: Pick<ChainsightJwk, 'chainsight_role' | 'chainsight_principal'> = role !== undefined ? { chainsight_role: role } : { chainsight_principal: principal as string };
  const publicJwk: ChainsightJwk = { ...pub, kid, alg: KEY_ALGORITHM, use: 'sig', ...binding };
  const priv: PrivateKeyFile = { ...(await exportJWK(privateKey)), kid, alg: KEY_ALGORITHM, ...binding, chainsight_trust_domain: trustDomain };

  const bundle = await addToBundle(dir, trustDomain, [publicJwk]);
  const privateDir = opts.privateDir ?? join(dir, 'private');
  await mkdir(privateDir, { recursive: true, mode: 0o700 });
  const privatePath = join(privateDir, privateKeyFileName(trustDomain, principal, role));
  await writeAtomic(privatePath, JSON.stringify(priv, null, 2) + '\n', 0o600);
  return { signingKey: await signingKeyFromJwk(priv), publicJwk, bundlePath: bundle, privatePath };
}

export async function signingKeyFromJwk(jwk: PrivateKeyFile): Promise<SigningKey> {
  if (typeof jwk.d !== 'string') throw new KeyError(`key ${String(jwk.kid)} is not a private key`);
  if (typeof jwk.kid !== 'string' || typeof jwk.chainsight_trust_domain !== 'string') throw new KeyError('private key file needs kid and chainsight_trust_domain');
  const alg = jwk.alg ?? KEY_ALGORITHM;
  const key = await importJWK(jwk as JWK, alg);
  if (key instanceof Uint8Array) throw new KeyError('symmetric keys cannot sign delegation links');
  const out: SigningKey = { kid: jwk.kid, alg, trustDomain: jwk.chainsight_trust_domain, key };
  if (jwk.chainsight_principal !== undefined) out.principal = jwk.chainsight_principal;
  if (jwk.chainsight_role !== undefined) out.role = jwk.chainsight_role;
  return out;
}

/** Load a private key file written by `generateKey`. */
export async function loadSigningKey(path: string): Promise<SigningKey> {
  let jwk: PrivateKeyFile;
  try {
    jwk = JSON.parse(await readFile(path, 'utf8')) as PrivateKeyFile;
  } catch (e) {
    throw new KeyError(`cannot read private key ${path}: ${(e as Error).message}`);
  }
  return signingKeyFromJwk(jwk);
}
