/**
 * Trust bundles: one JWKS per trust domain, never merged across domains.
 * Keys are imported once (jose importJWK → node KeyObject) when a bundle is
 * loaded, so verification never imports a key.
 *
 * Two extra JWK members bind a key to what it may sign:
 *  - `chainsight_role: "authorization"`: the trust domain's authorization key,
 *    the only key that may sign a root link (a human authorizing an agent);
 *  - `chainsight_role: "sts"`: the trust domain's STS key, the only key that
 *    may sign a token-exchange token (nested `act` claims, spec §11);
 *  - `chainsight_principal: "<spiffe id>"`: an agent's key; it may sign only
 *    links whose `iss` is that agent.
 *
 * A directory load never fails because of one file: each bundle file, and
 * each key in it, is accepted or refused on its own (see trust-bundle.ts), and
 * the result says what was refused and why. Only a directory that cannot be
 * listed fails a load; a reload that fails that way keeps the keys in force.
 */
import type { X509Certificate } from 'node:crypto';
import { open, readdir } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import {
  MAX_BUNDLE_BYTES,
  importBundle,
  importBundleText,
  refusedBundle,
  trustDomainOfFileName,
  type BundleResult,
  type Jwks,
  type TrustedKey,
} from './trust-bundle.js';

export { AUTHORIZATION_ROLE, STS_ROLE, BUNDLE_SUFFIX, type ChainsightJwk, type Jwks, type TrustedKey, type BundleResult, type KeyRefusal } from './trust-bundle.js';

export class TrustStoreError extends Error {
  override name = 'TrustStoreError';
}

/** Keys that appeared in or left one trust domain in a load. */
export interface TrustDomainChange {
  trustDomain: string;
  added: string[];
  removed: string[];
}

/** The outcome of loading a trust directory: every bundle file's result, and what changed. */
export interface TrustLoad {
  dir: string;
  /** One per `<trust-domain>.jwks.json` file, in file-name order. */
  bundles: BundleResult[];
  /** Whether the trusted keys differ from before (then `generation` increased). */
  changed: boolean;
  /** Per trust domain whose keys changed: kids added and removed. */
  changes: TrustDomainChange[];
}

type Domains = Map<string, Map<string, TrustedKey>>;

/** One refusal in a load, worded for an operator. */
export interface TrustRefusal {
  file: string;
  trustDomain: string;
  /** Absent for a bundle refused as a whole. */
  kid?: string;
  reason: string;
  /** Private key material found in a bundle, or a whole bundle refused. */
  severe: boolean;
  text: string;
}

/** Every refusal of a load, one per bad bundle file or key, naming the file and kid. */
export function trustRefusals(load: TrustLoad): TrustRefusal[] {
  const out: TrustRefusal[] = [];
  for (const b of load.bundles) {
    const base = { file: b.source, trustDomain: b.trustDomain };
    if (b.error !== undefined) {
      out.push({ ...base, reason: b.error, severe: true, text: `trust bundle refused: ${b.source}: ${b.error}; no key of trust domain ${b.trustDomain} is trusted until the file is fixed` });
    }
    for (const k of b.refusedKeys) {
      const kid = k.kid ?? `#${k.index}`;
      out.push({ ...base, kid, reason: k.reason, severe: k.privateMaterial === true, text: `trust key refused: ${b.source} kid ${kid}: ${k.reason}` });
    }
  }
  return out;
}

/** Read one bundle file without trusting what sits at its path. */
async function readBundleFile(trustDomain: string, path: string): Promise<BundleResult | undefined> {
  let handle;
  try {
    // O_NONBLOCK: a FIFO under a bundle's name must not hang the loader.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // Gone between listing and opening (a deletion, a dangling link): not a bundle.
    if (code === 'ENOENT') return undefined;
    return refusedBundle(trustDomain, path, `cannot open: ${(e as Error).message}`);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) return refusedBundle(trustDomain, path, 'not a regular file');
    if (st.size > MAX_BUNDLE_BYTES) return refusedBundle(trustDomain, path, `${st.size} bytes; a bundle may have at most ${MAX_BUNDLE_BYTES}`);
    const buf = Buffer.alloc(MAX_BUNDLE_BYTES + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > MAX_BUNDLE_BYTES) return refusedBundle(trustDomain, path, `grew past ${MAX_BUNDLE_BYTES} bytes while being read`);
    }
    return importBundleText(trustDomain, buf.subarray(0, n).toString('utf8'), path);
  } catch (e) {
    return refusedBundle(trustDomain, path, `cannot read: ${(e as Error).message}`);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Every bundle file of `dir`, judged. Throws TrustStoreError only when the directory cannot be listed. */
export async function readTrustDirectory(dir: string): Promise<BundleResult[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw new TrustStoreError(`cannot read trust directory ${dir}: ${(e as Error).message}`);
  }
  const out: BundleResult[] = [];
  for (const name of names.sort()) {
    // Hidden entries are editors' and orchestrators' scratch (.#locks, ..data), never bundles.
    if (name.startsWith('.')) continue;
    const td = trustDomainOfFileName(name);
    if (td === undefined) continue;
    const r = await readBundleFile(td, join(dir, name));
    if (r !== undefined) out.push(r);
  }
  return out;
}

function domainsOf(bundles: BundleResult[]): Domains {
  const d: Domains = new Map();
  for (const b of bundles) if (b.error === undefined) d.set(b.trustDomain, b.keys);
  return d;
}

function authoritiesOf(bundles: BundleResult[]): Map<string, X509Certificate[]> {
  const d = new Map<string, X509Certificate[]>();
  for (const b of bundles) if (b.error === undefined) d.set(b.trustDomain, b.authorities);
  return d;
}

function changesBetween(before: Domains, after: Domains): TrustDomainChange[] {
  const out: TrustDomainChange[] = [];
  for (const td of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const a = before.get(td) ?? new Map<string, TrustedKey>();
    const b = after.get(td) ?? new Map<string, TrustedKey>();
    const added = [...b.keys()].filter((k) => !a.has(k));
    const removed = [...a.keys()].filter((k) => !b.has(k));
    if (added.length || removed.length) out.push({ trustDomain: td, added, removed });
  }
  return out;
}

export class TrustStore {
  private domains: Domains = new Map();
  private x509 = new Map<string, X509Certificate[]>();
  /** The directory's bundles as last read, and the remote ones by domain; a remote domain's file is ignored. */
  private dirBundles: BundleResult[] = [];
  private readonly remote = new Map<string, BundleResult>();
  private remoteDomains: ReadonlySet<string> = new Set();
  private fingerprints = new Map<string, string>();
  private gen = 0;
  private last: TrustLoad;
  /** Reloads run one after another, so an older read never overwrites a newer one. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly dir: string | undefined, bundles: BundleResult[]) {
    this.last = this.apply(bundles);
  }

  /**
   * Load every `<trust-domain>.jwks.json` in `dir`. Bad files and keys are
   * refused on their own (see `lastLoad`); throws only when `dir` cannot be read.
   */
  static async fromDirectory(dir: string): Promise<TrustStore> {
    return new TrustStore(dir, await readTrustDirectory(dir));
  }

  /** Build from in-memory bundles keyed by trust domain (tests, remote fetchers). Strict: any refusal throws. */
  static async fromBundles(bundles: Record<string, Jwks>): Promise<TrustStore> {
    const results: BundleResult[] = [];
    for (const [td, b] of Object.entries(bundles)) {
      const r = await importBundle(td, b, `bundle ${td}`);
      const problem = r.error ?? r.refusedKeys.map((k) => `kid ${k.kid ?? `#${k.index}`}: ${k.reason}`).join('; ');
      if (problem) throw new TrustStoreError(`bundle ${td}: ${problem}`);
      results.push(r);
    }
    return new TrustStore(undefined, results);
  }

  /**
   * Re-read the directory. A file's current contents are what it vouches for:
   * a key removed from a bundle, refused in it, or in a bundle refused as a
   * whole is no longer trusted. If the directory itself cannot be read, the
   * keys in force stay and TrustStoreError is thrown. `generation` increases
   * only when the trusted keys changed, which tells verifiers to drop caches.
   */
  reload(): Promise<TrustLoad> {
    const dir = this.dir;
    if (dir === undefined) return Promise.reject(new TrustStoreError('this trust store was not loaded from a directory'));
    const run = this.queue.then(async () => {
      const bundles = await readTrustDirectory(dir);
      return (this.last = this.apply(bundles));
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Declare the trust domains whose bundles come from remote sources: their
   * files in the directory are ignored from now on (one source per domain, so
   * two publishers can never mix keys into one domain).
   */
  useRemoteDomains(domains: Iterable<string>): TrustLoad {
    this.remoteDomains = new Set(domains);
    return (this.last = this.apply(this.dirBundles));
  }

  /** Whether `trustDomain`'s bundle comes from a remote source. */
  isRemote(trustDomain: string): boolean {
    return this.remoteDomains.has(trustDomain);
  }

  /**
   * Put a remote domain's bundle in force (a refused one untrusts the domain,
   * as a refused file does), or remove it (undefined). Atomic, like a reload.
   */
  setRemoteBundle(trustDomain: string, bundle: BundleResult | undefined): TrustLoad {
    if (!this.remoteDomains.has(trustDomain)) throw new TrustStoreError(`${trustDomain} is not a remote trust domain`);
    if (bundle === undefined) this.remote.delete(trustDomain);
    else this.remote.set(trustDomain, bundle);
    return (this.last = this.apply(this.dirBundles));
  }

  private apply(dirBundles: BundleResult[]): TrustLoad {
    this.dirBundles = dirBundles;
    const bundles = [...dirBundles.filter((b) => !this.remoteDomains.has(b.trustDomain)), ...[...this.remote.values()].filter((b) => this.remoteDomains.has(b.trustDomain))];
    const next = domainsOf(bundles);
    const prints = new Map([...next.keys()].map((td) => [td, bundles.find((b) => b.trustDomain === td)?.fingerprint ?? '']));
    const changed = prints.size !== this.fingerprints.size || [...prints].some(([td, fp]) => this.fingerprints.get(td) !== fp);
    const changes = changesBetween(this.domains, next);
    if (changed) {
      // One assignment: a verification sees either the old keys or the new, never a mix.
      this.domains = next;
      this.x509 = authoritiesOf(bundles);
      this.fingerprints = prints;
      this.gen++;
    }
    return { dir: this.dir ?? '', bundles, changed, changes };
  }

  /** The most recent successful load (start-up or reload). */
  get lastLoad(): TrustLoad {
    return this.last;
  }

  /** Increases whenever the trusted keys change; caches built on an older generation are stale. */
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

  /** The X.509 authorities of `trustDomain`'s bundle (what an `x5c` must chain to). */
  authorities(trustDomain: string): readonly X509Certificate[] {
    return this.x509.get(trustDomain) ?? [];
  }

  trustDomains(): string[] {
    return [...this.domains.keys()];
  }

  /** Keys trusted for a domain (0 when it has no bundle). */
  keyCount(trustDomain: string): number {
    return this.domains.get(trustDomain)?.size ?? 0;
  }
}
