/**
 * Remote trust bundles: per trust domain, a JWKS or SPIFFE bundle fetched
 * over HTTPS, kept in memory (in the TrustStore) and as a last good copy on
 * disk, so a restart works while the endpoint is down.
 *
 * Refreshes: on a schedule (the bundle's `spiffe_refresh_hint`, bounded), and
 * when a link names a key the bundle lacks — at most once per
 * `unknownKeyIntervalMs` per domain, with every span that asks while one is
 * in flight sharing it.
 *
 * What an answer does (the same line as the trust directory, §3.1–3.2):
 *  - no usable answer (network, TLS, timeout, status, redirect, content type,
 *    size): it says nothing about which keys to distrust, so the bundle in
 *    force stays — for at most `maxStaleMs` since the last good fetch, after
 *    which the domain is untrusted (fail closed);
 *  - a document that is not a valid bundle for this domain (not JSON, not a
 *    JWKS, another domain's keys): the domain is untrusted, as a broken file
 *    is, and the disk copy removed so a restart agrees;
 *  - a valid bundle whose `spiffe_sequence` went backwards: a rollback (a
 *    stale cache or replay), refused, the bundle in force stays;
 *  - any other valid bundle is put in force as it is, even an empty one.
 */
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { importBundleText, MAX_BUNDLE_BYTES, type BundleResult } from './trust-bundle.js';
import { fetchBundle } from './trust-remote-fetch.js';
import type { RemoteSource } from './trust-remote-sources.js';
import type { TrustLoad, TrustStore } from './trust-store.js';

export type RefreshTrigger = 'start' | 'schedule' | 'unknown_key' | 'request';

export type RefreshResult =
  /** Put in force (the keys may or may not have changed: see `load.changed`). */
  | 'updated'
  | 'not_modified'
  /** No usable answer; the bundle in force stays. */
  | 'kept'
  /** The answer was refused and the bundle in force stays (a rollback). */
  | 'rollback'
  /** The document was not a valid bundle, or the last good copy grew too old: the domain is untrusted. */
  | 'untrusted';

export interface RefreshOutcome {
  trustDomain: string;
  trigger: RefreshTrigger;
  result: RefreshResult;
  error?: string;
  load?: TrustLoad;
  /** When the next scheduled refresh runs (ms from now). */
  nextInMs: number;
}

export interface RemoteTrustOptions {
  /** Where last good copies are kept (one `<trust-domain>.json` each). */
  cacheDir: string;
  /** Bounds on the refresh interval, whatever the hint says (default 30 s – 1 h). */
  minRefreshMs?: number;
  maxRefreshMs?: number;
  /** Interval without a hint (default 5 min). */
  defaultRefreshMs?: number;
  /** At most one unknown-key refresh per domain per this (default 30 s). */
  unknownKeyIntervalMs?: number;
  /** How long a last good copy may stand in for an unreachable endpoint (default 24 h). */
  maxStaleMs?: number;
  timeoutMs?: number;
  onRefresh?(outcome: RefreshOutcome): void;
  /** Called for each HTTPS request made (metrics, tests). */
  onFetch?(trustDomain: string): void;
  now?(): number;
}

/** The next scheduled refresh: the hint, clamped to the bounds. Pure. */
export function refreshDelayMs(hintSec: number | undefined, o: { minRefreshMs: number; maxRefreshMs: number; defaultRefreshMs: number }): number {
  const want = hintSec === undefined ? o.defaultRefreshMs : hintSec * 1000;
  return Math.min(o.maxRefreshMs, Math.max(o.minRefreshMs, want));
}

/** Whether a fetched bundle rolls back the one in force (its spiffe_sequence is lower). Pure. */
export function isRollback(current: BundleResult | undefined, next: BundleResult): boolean {
  return current?.sequence !== undefined && next.sequence !== undefined && next.sequence < current.sequence;
}

interface CacheFile {
  trustDomain: string;
  url: string;
  fetchedAt: number;
  etag?: string;
  body: string;
}

interface DomainState {
  source: RemoteSource;
  current?: BundleResult;
  etag?: string;
  /** When the bundle in force was last confirmed by the endpoint (0: never). */
  confirmedAt: number;
  inFlight?: Promise<RefreshOutcome>;
  lastUnknownKeyRefresh: number;
  timer?: NodeJS.Timeout;
}

export class RemoteTrust {
  private readonly domains = new Map<string, DomainState>();
  private readonly o: Required<Omit<RemoteTrustOptions, 'onRefresh' | 'onFetch' | 'now'>>;
  private readonly now: () => number;
  private closed = false;

  constructor(
    private readonly store: TrustStore,
    sources: RemoteSource[],
    private readonly opts: RemoteTrustOptions,
  ) {
    this.o = {
      cacheDir: opts.cacheDir,
      minRefreshMs: opts.minRefreshMs ?? 30_000,
      maxRefreshMs: opts.maxRefreshMs ?? 3_600_000,
      defaultRefreshMs: opts.defaultRefreshMs ?? 300_000,
      unknownKeyIntervalMs: opts.unknownKeyIntervalMs ?? 30_000,
      maxStaleMs: opts.maxStaleMs ?? 86_400_000,
      timeoutMs: opts.timeoutMs ?? 5_000,
    };
    this.now = opts.now ?? Date.now;
    for (const s of sources) this.domains.set(s.trustDomain, { source: s, confirmedAt: 0, lastUnknownKeyRefresh: -Infinity });
    store.useRemoteDomains(this.domains.keys());
  }

  /** Last good copies first (so a down endpoint still leaves keys), then one fetch per domain, in parallel. */
  async start(): Promise<RefreshOutcome[]> {
    for (const [td, st] of this.domains) {
      const cached = await this.readCache(st);
      if (cached !== undefined) {
        st.current = cached.bundle;
        st.confirmedAt = cached.fetchedAt;
        if (cached.etag !== undefined) st.etag = cached.etag;
        this.store.setRemoteBundle(td, cached.bundle);
      }
    }
    return Promise.all([...this.domains.keys()].map((td) => this.refresh(td, 'start')));
  }

  trustDomains(): string[] {
    return [...this.domains.keys()];
  }

  /** Seconds since the endpoint last confirmed the bundle in force, per domain (undefined: none in force). */
  ages(): Array<{ trustDomain: string; ageSec: number | undefined }> {
    const now = this.now();
    return [...this.domains].map(([trustDomain, st]) => ({ trustDomain, ageSec: st.current === undefined ? undefined : Math.max(0, (now - st.confirmedAt) / 1000) }));
  }

  /**
   * A link needs a key `trustDomain`'s bundle lacks: the refresh in flight, a
   * new one if the domain's unknown-key budget allows, else undefined.
   */
  refreshFor(trustDomain: string): Promise<RefreshOutcome> | undefined {
    const st = this.domains.get(trustDomain);
    if (st === undefined || this.closed) return undefined;
    if (st.inFlight) return st.inFlight;
    const now = this.now();
    if (now - st.lastUnknownKeyRefresh < this.o.unknownKeyIntervalMs) return undefined;
    st.lastUnknownKeyRefresh = now;
    return this.refresh(trustDomain, 'unknown_key');
  }

  /** Fetch now (a refresh already in flight is shared). */
  refresh(trustDomain: string, trigger: RefreshTrigger = 'request'): Promise<RefreshOutcome> {
    const st = this.domains.get(trustDomain);
    if (st === undefined) return Promise.reject(new Error(`${trustDomain} has no remote source`));
    if (st.inFlight) return st.inFlight;
    const run = this.fetchAndApply(st, trigger).catch((e: unknown): RefreshOutcome => ({
      // Whatever went wrong, the refresh ends, so the next one can start.
      trustDomain, trigger, result: 'kept', error: e instanceof Error ? e.message : String(e), nextInMs: this.o.minRefreshMs,
    })).then((outcome) => {
      st.inFlight = undefined;
      this.schedule(st, outcome.nextInMs);
      if (!this.closed) this.opts.onRefresh?.(outcome);
      return outcome;
    });
    st.inFlight = run;
    return run;
  }

  close(): void {
    this.closed = true;
    for (const st of this.domains.values()) if (st.timer) clearTimeout(st.timer);
  }

  private schedule(st: DomainState, ms: number): void {
    if (st.timer) clearTimeout(st.timer);
    if (this.closed) return;
    st.timer = setTimeout(() => void this.refresh(st.source.trustDomain, 'schedule'), ms);
    st.timer.unref();
  }

  private async fetchAndApply(st: DomainState, trigger: RefreshTrigger): Promise<RefreshOutcome> {
    const td = st.source.trustDomain;
    const base = { trustDomain: td, trigger };
    const hinted = refreshDelayMs(st.current?.refreshHintSec, this.o);
    this.opts.onFetch?.(td);
    const got = await fetchBundle({
      url: st.source.url,
      timeoutMs: this.o.timeoutMs,
      ...(st.source.ca !== undefined ? { ca: st.source.ca } : {}),
      ...(st.etag !== undefined && st.current !== undefined ? { etag: st.etag } : {}),
    });
    if (this.closed) return { ...base, result: 'kept', error: 'closed', nextInMs: hinted };
    if (!got.ok) {
      const error = `${st.source.url}: ${got.error}`;
      if (st.current !== undefined && this.now() - st.confirmedAt > this.o.maxStaleMs) {
        // The last good copy has stood in too long: whatever it trusts may have been withdrawn since.
        const load = this.store.setRemoteBundle(td, undefined);
        st.current = undefined;
        return { ...base, result: 'untrusted', error: `${error}; last good bundle older than ${this.o.maxStaleMs} ms, dropped`, load, nextInMs: this.o.minRefreshMs };
      }
      // Retry sooner than the hint, never faster than the lower bound.
      return { ...base, result: 'kept', error, nextInMs: Math.min(hinted, Math.max(this.o.minRefreshMs, hinted / 4)) };
    }
    if (got.notModified) {
      st.confirmedAt = this.now();
      return { ...base, result: 'not_modified', nextInMs: hinted };
    }
    const bundle = await importBundleText(td, got.text, st.source.url);
    const next = refreshDelayMs(bundle.refreshHintSec, this.o);
    if (bundle.error !== undefined) {
      const load = this.store.setRemoteBundle(td, bundle);
      st.current = undefined;
      delete st.etag;
      await rm(this.cachePath(td), { force: true }).catch(() => undefined);
      return { ...base, result: 'untrusted', error: bundle.error, load, nextInMs: this.o.minRefreshMs };
    }
    if (isRollback(st.current, bundle)) {
      return { ...base, result: 'rollback', error: `spiffe_sequence ${bundle.sequence} is lower than ${st.current?.sequence} in force`, nextInMs: hinted };
    }
    st.current = bundle;
    st.confirmedAt = this.now();
    if (got.etag !== undefined) st.etag = got.etag;
    else delete st.etag;
    const load = this.store.setRemoteBundle(td, bundle);
    const error = await this.writeCache(st, got.text).catch((e: Error) => `last good copy not saved: ${e.message}`);
    return { ...base, result: 'updated', load, nextInMs: next, ...(error ? { error } : {}) };
  }

  private cachePath(td: string): string {
    return join(this.o.cacheDir, `${td}.json`);
  }

  /** Atomic: a crash mid-write leaves the previous copy. */
  private async writeCache(st: DomainState, body: string): Promise<undefined> {
    const td = st.source.trustDomain;
    const file: CacheFile = { trustDomain: td, url: st.source.url, fetchedAt: st.confirmedAt, body, ...(st.etag !== undefined ? { etag: st.etag } : {}) };
    await mkdir(this.o.cacheDir, { recursive: true });
    const tmp = `${this.cachePath(td)}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(file), { mode: 0o600 });
    await rename(tmp, this.cachePath(td));
    return undefined;
  }

  /** The last good copy, judged again like a fetched bundle; ignored if for another URL or too old. */
  private async readCache(st: DomainState): Promise<{ bundle: BundleResult; fetchedAt: number; etag?: string } | undefined> {
    const td = st.source.trustDomain;
    let text: string;
    try {
      const h = await open(this.cachePath(td), 'r');
      try {
        const s = await h.stat();
        // The copy wraps a bundle of at most MAX_BUNDLE_BYTES; anything much larger is not ours.
        if (!s.isFile() || s.size > 2 * MAX_BUNDLE_BYTES + 4096) return undefined;
        text = await h.readFile('utf8');
      } finally {
        await h.close();
      }
    } catch {
      return undefined;
    }
    let f: Partial<CacheFile>;
    try {
      f = JSON.parse(text) as Partial<CacheFile>;
    } catch {
      return undefined;
    }
    if (f.trustDomain !== td || f.url !== st.source.url || typeof f.body !== 'string' || typeof f.fetchedAt !== 'number') return undefined;
    if (this.now() - f.fetchedAt > this.o.maxStaleMs) return undefined;
    const bundle = await importBundleText(td, f.body, `${st.source.url} (last good copy)`);
    if (bundle.error !== undefined) return undefined;
    return { bundle, fetchedAt: f.fetchedAt, ...(typeof f.etag === 'string' ? { etag: f.etag } : {}) };
  }
}
