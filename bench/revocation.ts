/**
 * Revocation propagation: two processors (two pipelines in one process, one
 * chdb store, each with its own watcher polling every CHAINSIGHT_REVOCATION_POLL_MS,
 * default 1 s) and revocations inserted at random phases of their polls. For
 * each, the time from just before the insert to each processor holding it.
 * Prints BENCH_RESULT with p50/p99/max per processor, in ms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config.js';
import { openPipeline, type Pipeline } from '../src/runtime/pipeline.js';
import { createLogger } from '../src/runtime/logger.js';
import { percentile } from './stats.js';

const N = Number(process.env.BENCH_REVOCATIONS ?? 40);
const dir = mkdtempSync(join(tmpdir(), 'chainsight-bench-revoke-'));
const config = loadConfig(process.env, { data: dir, trustDir: join(dir, 'trust') });
const logger = createLogger('warn');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(config.trustDir, { recursive: true });
  const processors: Pipeline[] = [await openPipeline(config, logger, { defaultMetrics: false }), await openPipeline(config, logger, { defaultMetrics: false })];
  const lags: number[][] = processors.map(() => []);
  try {
    for (let i = 0; i < N; i++) {
      await sleep(Math.random() * config.revocationPollMs);
      const t0 = performance.now();
      const r = await processors[0]!.revocations.store.revoke({ kind: 'agent', target: `spiffe://bench.example/agent/a-${i}`, reason: 'bench', revokedBy: 'bench' });
      const pending = new Set(processors.keys());
      while (pending.size > 0) {
        for (const p of [...pending]) {
          if (processors[p]!.revocations.watcher.current().revocations.some((x) => x.id === r.id)) {
            lags[p]!.push(performance.now() - t0);
            pending.delete(p);
          }
        }
        await sleep(2);
      }
    }
  } finally {
    await Promise.all(processors.map((p) => p.close()));
    rmSync(dir, { recursive: true, force: true });
  }
  const result: Record<string, number> = { revocations: N, poll_ms: config.revocationPollMs };
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  lags.forEach((xs, i) => {
    result[`p${i + 1}_lag_ms_p50`] = percentile(sorted(xs), 50);
    result[`p${i + 1}_lag_ms_p99`] = percentile(sorted(xs), 99);
    result[`p${i + 1}_lag_ms_max`] = Math.max(...xs);
  });
  result.lag_ms_p99 = percentile(sorted(lags.flat()), 99);
  result.lag_ms_p99_over_poll = result.lag_ms_p99 / config.revocationPollMs;
  console.log('BENCH_RESULT ' + JSON.stringify(result));
}

await main();
