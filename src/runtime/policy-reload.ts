import { Counter, Gauge } from 'prom-client';
import { PolicyEngine, PolicyWatcher, SpanPolicy } from '../policy/index.js';
import type { TrustStore } from '../verify/index.js';
import type { Metrics } from '../serve/metrics.js';
import type { Logger } from './logger.js';

export interface RunningPolicy {
  engine: PolicyEngine;
  spanPolicy: SpanPolicy;
  watcher: PolicyWatcher;
}

/**
 * Loads the policy engine's rules file and keeps it current: a change is in
 * force within about a second; a bad edit keeps the last good policy and says
 * why. The first load must succeed (a process never starts without the policy
 * it was told to enforce).
 */
export async function watchPolicy(file: string, trust: TrustStore, metrics: Metrics, logger: Logger): Promise<RunningPolicy> {
  const reloads = new Counter({ name: 'chainsight_policy_reloads_total', help: 'Policy file reloads by result', labelNames: ['result'], registers: [metrics.registry] });
  let engine: PolicyEngine | undefined;
  const watcher = await PolicyWatcher.start(file, {
    onPolicy: (p) => engine?.swap(p),
    onReload: (e) => {
      reloads.inc({ result: e.kind });
      if (e.kind === 'loaded') logger.info({ file, version: e.version, revision: e.revision, previous: e.previousRevision }, 'policy reloaded');
      else if (e.kind === 'rejected') logger.error({ file, error: e.error, kept: e.keptRevision }, 'policy file rejected; the last good policy stays in force');
    },
  });
  engine = new PolicyEngine(watcher.current);
  new Gauge({
    name: 'chainsight_policy_info',
    help: 'The policy in force (value 1), labelled by version and revision',
    labelNames: ['version', 'revision'],
    registers: [metrics.registry],
    collect() {
      this.reset();
      const d = watcher.current.data;
      this.set({ version: d.version, revision: d.revision }, 1);
    },
  });
  logger.info({ file, version: watcher.current.data.version, revision: watcher.current.data.revision }, 'policy loaded');
  return { engine, spanPolicy: new SpanPolicy(engine, trust), watcher };
}
