import type { ClickHouseClient } from '@clickhouse/client';
import type { ChainsightConfig } from '../config/config.js';
import { openClient } from '../store/client.js';
import { migrate } from '../store/migrate.js';
import { BatchWriter } from '../store/writer.js';
import { Queries } from '../store/queries.js';
import { Processor, type ProcessedBatch } from '../pipeline/processor.js';
import type { ActionRow, DelegationRow } from '../correlate/rows.js';
import { ChainVerifier, TrustStore } from '../verify/index.js';
import { Metrics } from '../serve/metrics.js';
import type { Logger } from './logger.js';

/** The processor with its store, verifier and metrics: what every source feeds. */
export interface Pipeline {
  processor: Processor;
  queries: Queries;
  metrics: Metrics;
  verifier: ChainVerifier;
  trust: TrustStore;
  writerClient: ClickHouseClient;
  readerClient: ClickHouseClient;
  close(): Promise<void>;
}

export async function openPipeline(config: ChainsightConfig, logger: Logger, opts: { defaultMetrics?: boolean } = {}): Promise<Pipeline> {
  const metrics = new Metrics({ defaultMetrics: opts.defaultMetrics ?? true });
  const trust = await TrustStore.fromDirectory(config.trustDir);
  const verifier = new ChainVerifier(trust, config.policy);
  // One connection per purpose: chdb runs one query at a time per connection, so
  // analyst queries must not queue behind inserts, nor delegation rows behind action rows.
  const writerClient = openClient(config.store);
  const linkClient = openClient(config.store);
  const readerClient = openClient(config.store);
  await migrate(writerClient, config.store.database, config.store.layout ?? 'single');
  const writerOpts = (table: string) => ({
    maxRows: config.batch.maxRows,
    maxDelayMs: config.batch.maxDelayMs,
    onFlush: (_t: string, rows: number, seconds: number) => {
      metrics.batchRows.observe({ table }, rows);
      metrics.writeSeconds.observe({ table }, seconds);
    },
    onError: (_t: string, err: unknown) => {
      metrics.writeErrors.inc({ table });
      logger.warn({ table, err: err instanceof Error ? err.message : String(err) }, 'insert failed; callers will retry');
    },
  });
  const db = config.store.database;
  const actions = new BatchWriter<ActionRow>(writerClient, `${db}.actions`, writerOpts('actions'));
  const delegations = new BatchWriter<DelegationRow>(linkClient, `${db}.delegations`, writerOpts('delegations'));
  const observer = {
    onBatch(b: ProcessedBatch) {
      if (b.verified) metrics.verdicts.inc({ status: 'verified' }, b.verified);
      if (b.failed) metrics.verdicts.inc({ status: 'failed' }, b.failed);
      for (const [reason, n] of b.reasons) metrics.verdictReasons.inc({ reason }, n);
      metrics.chainCache.inc({ result: 'hit' }, b.cacheHits);
      metrics.chainCache.inc({ result: 'miss' }, b.actions.length - b.cacheHits);
    },
  };
  const processor = new Processor((span) => verifier.verifyOrRefresh(span), actions, delegations, observer);
  return {
    processor, metrics, verifier, trust, writerClient, readerClient,
    queries: new Queries(readerClient, db),
    async close() {
      await Promise.allSettled([actions.close(), delegations.close()]);
      await Promise.allSettled([writerClient.close(), linkClient.close(), readerClient.close()]);
    },
  };
}
