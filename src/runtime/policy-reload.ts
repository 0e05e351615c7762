import { Counter, Gauge } from 'prom-client';
import type { ChainsightConfig } from '../config/config.js';
import { OpaPolicyClient, PolicyEngine, PolicyWatcher, SpanPolicy } from '../policy/index.js';
import { OpaEngine } from '../policy/opa-engine.js';
import type { TrustStore } from '../verify/index.js';
import type { Metrics } from '../serve/metrics.js';
import type { Logger } from './logger.js';

export interface RunningPolicy {
  /** The built-in engine (in force with engine=builtin; kept current with engine=opa too). */
  engine: PolicyEngine;
  /** The OPA engine, with engine=opa. */
  opa: OpaEngine | undefined;
  spanPolicy: SpanPolicy;
  watcher: PolicyWatcher;
}

/**
 * Loads the policy engine's rules file and keeps it current: a change is in
 * force within about a second; a bad edit keeps the last good policy and says
 * why. The first load must succeed (a process never starts without the policy
 * it was told to enforce). With engine=opa, every policy loaded is pushed to
 * OPA as data; a process whose OPA is down still starts, denies with
 * `policy.engine.unavailable` and pushes again until OPA takes the policy.
 */
export async function watchPolicy(
  file: string,
  trust: TrustStore,
  metrics: Metrics,
  logger: Logger,
  engineConfig: ChainsightConfig['policyEngine'] = { kind: 'builtin' },
): Promise<RunningPolicy> {
  const reloads = new Counter({ name: 'chainsight_policy_reloads_total', help: 'Policy file reloads by result', labelNames: ['result'], registers: [metrics.registry] });
  let engine: PolicyEngine | undefined;
  let opa: OpaEngine | undefined;
  const watcher = await PolicyWatcher.start(file, {
    onPolicy: (p) => {
      engine?.swap(p);
      void opa?.use(p);
    },
    onReload: (e) => {
      reloads.inc({ result: e.kind });
      if (e.kind === 'loaded') logger.info({ file, version: e.version, revision: e.revision, previous: e.previousRevision }, 'policy reloaded');
      else if (e.kind === 'rejected') logger.error({ file, error: e.error, kept: e.keptRevision }, 'policy file rejected; the last good policy stays in force');
    },
  });
  engine = new PolicyEngine(watcher.current);
  if (engineConfig.kind === 'opa') opa = await startOpa(engineConfig, watcher, metrics, logger);
  const decidingPolicy = () => (opa ? opa.policy : watcher.current);
  new Gauge({
    name: 'chainsight_policy_info',
    help: 'The policy in force (value 1), labelled by version, revision and engine',
    labelNames: ['version', 'revision', 'engine'],
    registers: [metrics.registry],
    collect() {
      this.reset();
      const d = decidingPolicy().data;
      this.set({ version: d.version, revision: d.revision, engine: engineConfig.kind }, 1);
    },
  });
  logger.info({ file, version: watcher.current.data.version, revision: watcher.current.data.revision, engine: engineConfig.kind }, 'policy loaded');
  return { engine, opa, spanPolicy: new SpanPolicy(opa ?? engine, trust), watcher };
}

async function startOpa(cfg: { url: string; cacheTtlMs: number }, watcher: PolicyWatcher, metrics: Metrics, logger: Logger): Promise<OpaEngine> {
  const pushes = new Counter({ name: 'chainsight_policy_opa_pushes_total', help: 'Policy pushes to OPA by result', labelNames: ['result'], registers: [metrics.registry] });
  const client = new OpaPolicyClient({ url: cfg.url, ttlMs: cfg.cacheTtlMs });
  let failing = false;
  const opa = new OpaEngine(client, watcher.current, {
    onPush: (e) => {
      pushes.inc({ result: e.ok ? 'ok' : 'failed' });
      // One line per outage and one when it ends, not one per retry.
      if (e.ok) {
        if (failing) logger.info({ url: cfg.url, revision: e.revision }, 'OPA took the policy; decisions resume');
        failing = false;
      } else if (!failing) {
        failing = true;
        logger.error({ url: cfg.url, revision: e.revision, err: e.error }, 'cannot load the policy into OPA; spans are denied with policy.engine.unavailable until it can');
      }
    },
  });
  new Counter({
    name: 'chainsight_policy_opa_requests_total',
    help: 'Decisions asked of OPA by outcome (hit: served from the TTL cache)',
    labelNames: ['outcome'],
    registers: [metrics.registry],
    collect() {
      this.reset();
      this.inc({ outcome: 'asked' }, client.stats.requests);
      this.inc({ outcome: 'hit' }, client.stats.hits);
      this.inc({ outcome: 'failed' }, client.stats.failures);
    },
  });
  await opa.use(watcher.current);
  return opa;
}
