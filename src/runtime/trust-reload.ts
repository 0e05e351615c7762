/**
 * Trust bundles at run time: the directories a fresh install needs, the log
 * lines an operator reads (what loaded, what was refused and why, how to add
 * a bundle), the metrics, and reloading on change or SIGHUP.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ChainsightConfig } from '../config/config.js';
import { BUNDLE_SUFFIX } from '../verify/trust-bundle.js';
import { trustRefusals, type TrustLoad, type TrustStore } from '../verify/trust-store.js';
import { TrustWatcher, type ReloadOutcome, type ReloadTrigger } from '../verify/trust-watch.js';
import type { ChainVerifier } from '../verify/chain-verifier.js';
import { RemoteTrust, type RefreshOutcome, type RemoteTrustOptions } from '../verify/trust-remote.js';
import type { Logger } from './logger.js';

/**
 * Create the data directory (embedded store) and the trust directory when
 * missing, so `serve` and `consume` start on a fresh machine.
 */
export async function prepareDirectories(config: Pick<ChainsightConfig, 'dataDir' | 'trustDir' | 'store'>): Promise<void> {
  const make = async (dir: string, what: string) => {
    try {
      await mkdir(dir, { recursive: true });
    } catch (e) {
      throw new Error(`cannot create the ${what} ${dir}: ${(e as Error).message}`);
    }
  };
  if (config.store.target.kind === 'embedded') await make(config.dataDir, 'data directory (CHAINSIGHT_DATA_DIR, --data)');
  await make(config.trustDir, 'trust directory (CHAINSIGHT_TRUST_DIR, --trust-dir)');
}

export interface TrustMetrics {
  reloads: Counter<'result'>;
  remoteFetches: Counter<'trust_domain' | 'result'>;
  keys: Gauge<'trust_domain'>;
  keysRefused: Gauge<'trust_domain'>;
  bundlesRefused: Gauge;
}

export function trustMetrics(registry: Registry): TrustMetrics {
  return {
    reloads: new Counter({ name: 'chainsight_trust_reloads_total', help: 'Trust directory reloads: ok, or failed (the keys in force were kept)', labelNames: ['result'], registers: [registry] }),
    remoteFetches: new Counter({ name: 'chainsight_trust_remote_fetches_total', help: 'Remote bundle refreshes per trust domain: updated, not_modified, kept (endpoint unusable), rollback, untrusted', labelNames: ['trust_domain', 'result'], registers: [registry] }),
    keys: new Gauge({ name: 'chainsight_trust_keys', help: 'Keys trusted per trust domain', labelNames: ['trust_domain'], registers: [registry] }),
    keysRefused: new Gauge({ name: 'chainsight_trust_keys_refused', help: 'Keys refused in the bundles as loaded, per trust domain', labelNames: ['trust_domain'], registers: [registry] }),
    bundlesRefused: new Gauge({ name: 'chainsight_trust_bundles_refused', help: 'Bundle files refused as a whole in the directory as loaded', registers: [registry] }),
  };
}

function recordLoad(m: TrustMetrics, load: TrustLoad): void {
  m.keys.reset();
  m.keysRefused.reset();
  let refusedBundles = 0;
  for (const b of load.bundles) {
    m.keys.set({ trust_domain: b.trustDomain }, b.keys.size);
    m.keysRefused.set({ trust_domain: b.trustDomain }, b.refusedKeys.length);
    if (b.error !== undefined) refusedBundles++;
  }
  m.bundlesRefused.set(refusedBundles);
}

/** How to add a bundle, for the log of a process that trusts no key. */
export function addBundleHint(trustDir: string): string {
  return `no trusted keys: every delegation chain fails verification (signature.unknown_trust_domain). `
    + `Add one file per trust domain, ${trustDir}/<trust-domain>${BUNDLE_SUFFIX} (a JWKS of public keys), `
    + `e.g. npx chainsight token keygen --domain example.com --authorization --dir ${trustDir} --private-dir ~/chainsight-keys `
    + `(private keys belong off the verifier's host); `
    + `bundles are picked up within seconds, or at once on SIGHUP`;
}

/** One log line per refusal, naming the file and kid, then a summary of what is trusted. */
export function logLoad(logger: Logger, load: TrustLoad, trigger: ReloadTrigger | 'start'): void {
  for (const r of trustRefusals(load)) {
    const fields = { file: r.file, trustDomain: r.trustDomain, kid: r.kid, reason: r.reason };
    if (r.severe) logger.error(fields, r.text);
    else logger.warn(fields, r.text);
  }
  const keys = Object.fromEntries(load.bundles.filter((b) => b.error === undefined).map((b) => [b.trustDomain, b.keys.size]));
  if (Object.values(keys).every((n) => n === 0)) {
    logger.warn({ trustDir: load.dir, trigger, keys }, addBundleHint(load.dir));
    return;
  }
  if (trigger === 'start') logger.info({ trustDir: load.dir, keys }, 'trust bundles loaded');
  else if (load.changed) logger.info({ trustDir: load.dir, trigger, keys, changes: load.changes }, 'trust bundles reloaded; verification caches dropped');
  else logger.info({ trustDir: load.dir, trigger, keys }, 'trust bundles reloaded; no key changed');
}

/** Reload timings (tests shorten them; the defaults suit operators). */
export interface TrustReloadOptions {
  debounceMs?: number;
  pollMs?: number;
  useFsWatch?: boolean;
  /** Remote bundle timings (see RemoteTrustOptions). */
  remote?: Omit<RemoteTrustOptions, 'cacheDir' | 'onRefresh'>;
}

export interface TrustReloading {
  reload(trigger?: ReloadTrigger): Promise<ReloadOutcome>;
  /** Remote bundles (undefined without a sources file). */
  remote: RemoteTrust | undefined;
  close(): void;
}

/** Where last good copies of remote bundles are kept. */
export function remoteCacheDir(dataDir: string): string {
  return join(dataDir, 'trust-cache');
}

function logRefresh(logger: Logger, o: RefreshOutcome): void {
  const fields = { trustDomain: o.trustDomain, trigger: o.trigger, result: o.result, err: o.error, nextInMs: o.nextInMs };
  if (o.result === 'untrusted') logger.error(fields, `remote trust bundle for ${o.trustDomain} refused, the domain is untrusted: ${o.error}`);
  else if (o.result === 'kept' || o.result === 'rollback') logger.warn(fields, `remote trust bundle for ${o.trustDomain} not refreshed, the keys in force are kept: ${o.error}`);
  else if (o.load?.changed) logger.info({ ...fields, changes: o.load.changes }, `remote trust bundle for ${o.trustDomain} changed; verification caches dropped`);
  else logger.debug(fields, `remote trust bundle for ${o.trustDomain} refreshed; no key changed`);
}

/**
 * Log and measure the start-up load, then reload on change. Options are for
 * tests; the defaults suit operators.
 */
export async function startTrustReloading(
  pipeline: { trust: TrustStore; verifier: ChainVerifier; metrics: { registry: Registry } },
  config: Pick<ChainsightConfig, 'trustDir' | 'trustSources' | 'dataDir'>,
  logger: Logger,
  opts: TrustReloadOptions = {},
): Promise<TrustReloading> {
  const { trust, verifier } = pipeline;
  const trustDir = config.trustDir;
  const metrics = trustMetrics(pipeline.metrics.registry);
  const sources = config.trustSources.sources;
  let remote: RemoteTrust | undefined;
  if (sources.length > 0) {
    const shadowed = trust.lastLoad.bundles.filter((b) => sources.some((s) => s.trustDomain === b.trustDomain));
    for (const b of shadowed) logger.warn({ file: b.source, trustDomain: b.trustDomain }, `${b.source} is ignored: ${b.trustDomain}'s bundle comes from ${config.trustSources.file}`);
    remote = new RemoteTrust(trust, sources, {
      ...opts.remote,
      cacheDir: remoteCacheDir(config.dataDir),
      onRefresh(o) {
        metrics.remoteFetches.inc({ trust_domain: o.trustDomain, result: o.result });
        logRefresh(logger, o);
        if (o.load) recordLoad(metrics, o.load);
      },
    });
    verifier.useRefresher(remote);
    const r = remote;
    new Gauge({
      name: 'chainsight_trust_remote_age_seconds',
      help: 'Seconds since the endpoint last confirmed the remote bundle in force, per trust domain (absent: none in force)',
      labelNames: ['trust_domain'],
      registers: [pipeline.metrics.registry],
      collect() {
        this.reset();
        for (const a of r.ages()) if (a.ageSec !== undefined) this.set({ trust_domain: a.trustDomain }, a.ageSec);
      },
    });
  }
  const { remote: _remote, ...watchOpts } = opts;
  const watcher = new TrustWatcher(trust, {
    dir: trustDir,
    ...watchOpts,
    onReload(outcome) {
      metrics.reloads.inc({ result: outcome.ok ? 'ok' : 'failed' });
      if (outcome.ok) {
        logLoad(logger, outcome.load, outcome.trigger);
        recordLoad(metrics, outcome.load);
      } else {
        logger.error({ trustDir, trigger: outcome.trigger, err: outcome.error.message }, `trust reload failed, the keys in force are kept: ${outcome.error.message}`);
      }
    },
    onWatchError(err) {
      logger.warn({ trustDir, err: err.message }, 'cannot watch the trust directory; changes are found by polling');
    },
  });
  await watcher.start();
  // Bounded by the fetch timeout: an endpoint that is down leaves the last good copy (or no keys) in force.
  if (remote) await remote.start();
  logLoad(logger, trust.lastLoad, 'start');
  recordLoad(metrics, trust.lastLoad);
  return {
    reload: (t) => watcher.reload(t),
    remote,
    close: () => {
      watcher.close();
      remote?.close();
    },
  };
}
