import type { ClickHouseClient } from '@clickhouse/client';
import type { ChainsightConfig } from '../config/config.js';
import { openClient } from '../store/client.js';
import { migrate } from '../store/migrate.js';
import { BatchWriter, type BatchWriterOptions } from '../store/writer.js';
import { findQuarantined, type QuarantineFilter, type QuarantineRow } from '../store/quarantine.js';
import { Queries } from '../store/queries.js';
import { Processor, type BatchSummary } from '../pipeline/processor.js';
import { SinkRegistry } from '../pipeline/sinks.js';
import type { Stage } from '../pipeline/stage.js';
import { VerifyStage, type VerifyFn } from '../pipeline/verify-stage.js';
import { QuarantiningSink } from '../pipeline/quarantine.js';
import type { SpanSink } from '../pipeline/types.js';
import { ACTIONS, ActionsStage, DELEGATIONS, DelegationsStage } from '../correlate/stages.js';
import type { ActionRow, DelegationRow } from '../correlate/rows.js';
import { ChainVerifier, TrustStore } from '../verify/index.js';
import { Metrics } from '../serve/metrics.js';
import { PolicyStage, POLICY_DECISIONS } from '../policy/stage.js';
import type { DecisionRow } from '../policy/decision-log.js';
import type { PolicyEngine, SpanPolicy } from '../policy/index.js';
import { Gauge, Histogram } from 'prom-client';
import type { Logger } from './logger.js';
import { watchPolicy } from './policy-reload.js';
import { ReceivedTimeStage, type ReceivedTimeBound } from '../verify/received-time.js';
import { EmitterAuthStage, type EmitterAuthPolicy } from '../verify/emitter-auth.js';
import { CHAIN_LINKS, RevocationStage, type ChainLinksRow } from '../revoke/stage.js';
import type { RevocationSet } from '../revoke/revocation-set.js';
import { RevocationStore } from '../revoke/store.js';
import { RevocationWatcher } from '../revoke/watcher.js';
import { BlastRadiusQueries } from '../revoke/blast-radius.js';
import { ALERT_RESOLUTIONS, ALERT_SIGNALS, type AlertSignalRow } from '../alert/rows.js';
import { AlertStore } from '../alert/store.js';
import { AlertResolutionSink } from '../alert/resolution-sink.js';
import { startAlertDelivery } from '../alert/delivery/start.js';
import { NotifyingSink } from '../alert/delivery/notify-sink.js';
import type { AlertDelivery } from '../alert/delivery/service.js';
import { defaultDetectionConfig, type DetectionConfig } from '../detect/config.js';
import { buildDetectors } from '../detect/registry.js';
import { DetectStage, outputRows, type DetectFailure } from '../detect/stage.js';
import { DetectorScheduler } from '../detect/scheduler.js';
import { detectionMetrics } from '../detect/metrics.js';
import type { DetectorContext, StreamingDetector } from '../detect/detector.js';

/** The processor with its store, verifier and metrics: what every source feeds. */
export interface Pipeline {
  /** Reports rows the store refused for good back to its caller (the Kafka source dead-letters them). */
  processor: Processor;
  /** The processor with refused rows quarantined in the store: what OTLP/HTTP feeds. */
  quarantining: SpanSink;
  sinks: SinkRegistry;
  queries: Queries;
  metrics: Metrics;
  verifier: ChainVerifier;
  trust: TrustStore;
  writerClient: ClickHouseClient;
  readerClient: ClickHouseClient;
  database: string;
  /** Revocations: the table (API, CLI), this processor's watcher, blast-radius reads. */
  revocations: { store: RevocationStore; watcher: RevocationWatcher; blastRadius: BlastRadiusQueries };
  /** The policy engine in force, when a rules file is configured. */
  policy: PolicyEngine | undefined;
  /** Alerts raised by detection (API, CLI, delivery). */
  alerts: AlertStore;
  /** The detection configuration in force (enabled or not). */
  detection: DetectionConfig;
  /** Alert delivery (outbox, dispatcher, response) when destinations or the response are configured. */
  alertDelivery: AlertDelivery | undefined;
  /** Rows the store refused, with their error (the OTLP/HTTP path's quarantine table). */
  findQuarantined(filter: QuarantineFilter): Promise<QuarantineRow[]>;
  close(): Promise<void>;
}

/**
 * The processor's stages, in order. Verify first, because every later
 * decision reads the verdict; then the received-time bound, the emitter
 * check (who proved to send the span) and revocations (they need the
 * verified links, and their reasons are part of the verdict);
 * policy next, because its reasons must be part of the verdict before rows are built; correlate then
 * turns spans and final verdicts into rows; detection last, because it reads
 * the rows (and emits its own, such as alerts, to sinks registered below).
 */
export function pipelineStages(
  verify: VerifyFn,
  policy?: SpanPolicy,
  trusted: { receivedTime?: ReceivedTimeBound; revocations?: () => RevocationSet; emitter?: EmitterAuthPolicy } = {},
  detect?: Stage,
): Stage[] {
  return [
    new VerifyStage(verify),
    // What the sender cannot choose: when the span arrived, who sent it, and what was revoked since.
    ...(trusted.receivedTime ? [new ReceivedTimeStage(trusted.receivedTime)] : []),
    ...(trusted.emitter ? [new EmitterAuthStage(trusted.emitter)] : []),
    ...(trusted.revocations ? [new RevocationStage(trusted.revocations)] : []),
    ...(policy ? [new PolicyStage(policy)] : []),
    new ActionsStage(),
    new DelegationsStage(),
    ...(detect ? [detect] : []),
  ];
}

/**
 * Wires the processor: its stages, in order, and a sink per row kind. This is
 * the one place a new stage or table is plugged in.
 */
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
  const writerOpts = (table: string): BatchWriterOptions => ({
    maxRows: config.batch.maxRows,
    maxDelayMs: config.batch.maxDelayMs,
    onFlush: (_t, rows, seconds) => {
      metrics.batchRows.observe({ table }, rows);
      metrics.writeSeconds.observe({ table }, seconds);
    },
    onError: (_t, err) => {
      metrics.writeErrors.inc({ table });
      logger.warn({ table, code: err.code, err: err.message }, 'insert failed; callers will retry');
    },
    onRefused: (_t, rows, err) => {
      metrics.storeRefused.inc({ table, code: err.code }, rows);
      logger.warn({ table, rows, code: err.code, err: err.message.slice(0, 500) }, 'store refused rows for good; the rest of the batch is stored');
    },
  });
  const db = config.store.database;
  const actions = new BatchWriter<ActionRow>(writerClient, `${db}.actions`, writerOpts('actions'));
  const delegations = new BatchWriter<DelegationRow>(linkClient, `${db}.delegations`, writerOpts('delegations'));
  // Refusals are rare: the quarantine shares the delegation rows' connection.
  const quarantine = new BatchWriter<QuarantineRow>(linkClient, `${db}.quarantine`, writerOpts('quarantine'));

  const rules = config.rulesFile === undefined ? undefined : await watchPolicy(config.rulesFile, trust, metrics, logger, config.policyEngine);
  // Revocations on their own connection, so a poll never queues behind a batch insert.
  const revocationClient = openClient(config.store);
  const revocationStore = new RevocationStore(revocationClient, db);
  const skewSec = config.policy.clockSkewSec;
  const revocationMetrics = revocationInstruments(metrics);
  const watcher = new RevocationWatcher(revocationStore, {
    pollMs: config.revocationPollMs,
    graceMs: (config.maxSpanAgeSec + skewSec) * 1000,
    onApplied: (r, at) => {
      revocationMetrics.lag.observe(Math.max(0, at - r.insertedAtMs) / 1000);
      logger.info({ revocation: r.id, kind: r.kind, target: r.target, lagMs: at - r.insertedAtMs }, 'revocation in force');
    },
    onError: (err) => logger.warn({ err: (err as Error).message }, 'revocation poll failed; the revocations already loaded stay in force'),
  });
  revocationMetrics.active(() => watcher.current().size);
  await watcher.start();
  // Detection: streaming detectors on the processing stage, windowed ones on a schedule; their own connection for store reads.
  const detection = config.detection ?? defaultDetectionConfig();
  const alertClient = openClient(config.store);
  const alertStore = new AlertStore(alertClient, db);
  const signals = new BatchWriter<AlertSignalRow>(linkClient, `${db}.alert_signals`, writerOpts('alert_signals'));
  const detectCtx: DetectorContext = { client: alertClient, database: db, logger, implications: config.policy.implications };
  const detect = await startDetection(detection, detectCtx, metrics, logger);
  const scheduler = new DetectorScheduler(detect.windowed, detectCtx, {
    deliver: async (name, out) => {
      const rows = outputRows(name, out);
      await signals.write(rows.signals);
      await alertStore.applyResolutions(rows.resolutions);
      detect.counted(name, rows.signals);
    },
    onError: detect.onError,
    onEvaluated: (name, seconds) => detect.metrics.evaluateSeconds.observe({ detector: name }, seconds),
  });
  const stages = pipelineStages((span) => verifier.verifyOrRefresh(span), rules?.spanPolicy, {
    receivedTime: { maxAgeSec: config.maxSpanAgeSec, skewSec },
    revocations: () => watcher.current(),
    emitter: config.emitterAuth,
  }, detect.stage);
  const alertDelivery = startAlertDelivery(config, detection, logger, metrics.registry);
  const sinks = new SinkRegistry().register(ACTIONS, actions).register(DELEGATIONS, delegations)
    .register(CHAIN_LINKS, new BatchWriter<ChainLinksRow>(linkClient, `${db}.chain_links`, writerOpts('chain_links')))
    .register(ALERT_SIGNALS, new NotifyingSink(signals, () => alertDelivery?.poke()))
    .register(ALERT_RESOLUTIONS, new AlertResolutionSink(alertStore));
  if (rules) sinks.register(POLICY_DECISIONS, new BatchWriter<DecisionRow>(linkClient, `${db}.policy_decisions`, writerOpts('policy_decisions')));
  const observer = {
    onBatch(b: BatchSummary) {
      if (b.verified) metrics.verdicts.inc({ status: 'verified' }, b.verified);
      if (b.failed) metrics.verdicts.inc({ status: 'failed' }, b.failed);
      for (const [reason, n] of b.reasons) metrics.verdictReasons.inc({ reason }, n);
      metrics.chainCache.inc({ result: 'hit' }, b.cacheHits);
      metrics.chainCache.inc({ result: 'miss' }, b.spans - b.cacheHits);
    },
  };
  const processor = new Processor(stages, sinks, observer);
  scheduler.start();
  const quarantining = new QuarantiningSink(processor, quarantine, 'otlp_http', {
    quarantined: (n) => metrics.quarantined.inc({ destination: 'table' }, n),
    lost: (rows, err) => logger.error({ rows: rows.map((r) => `${r.table_name} ${r.trace_id}/${r.span_id}`), code: err.code, err: err.message }, 'quarantine refused rows'),
  });
  return {
    processor, quarantining, sinks, metrics, verifier, trust, writerClient, readerClient, database: db,
    queries: new Queries(readerClient, db),
    findQuarantined: (filter) => findQuarantined(readerClient, db, filter),
    policy: rules?.engine,
    alerts: new AlertStore(readerClient, db),
    detection,
    alertDelivery,
    revocations: { store: revocationStore, watcher, blastRadius: new BlastRadiusQueries(readerClient, db) },
    async close() {
      rules?.watcher.close();
      await watcher.close();
      await scheduler.close();
      await alertDelivery?.stop();
      await Promise.allSettled([sinks.close(), quarantine.close()]);
      await Promise.allSettled([writerClient.close(), linkClient.close(), readerClient.close(), revocationClient.close(), alertClient.close()]);
    },
  };
}

/**
 * The detectors the configuration turns on, each streaming one started (its
 * baseline loaded from the store); one that fails to start is left out,
 * logged and counted, and the others run.
 */
async function startDetection(detection: DetectionConfig, ctx: DetectorContext, metrics: Metrics, logger: Logger) {
  const m = detectionMetrics(metrics.registry);
  const onError = (f: DetectFailure) => {
    m.errors.inc({ detector: f.detector, phase: f.phase });
    logger.error({ detector: f.detector, phase: f.phase, err: (f.error as Error)?.message ?? String(f.error) }, 'detector failed; spans and other detectors are unaffected');
  };
  const counted = (detector: string, rows: readonly AlertSignalRow[]) => {
    for (const r of rows) m.signals.inc({ detector, kind: r.kind });
  };
  const built = buildDetectors(detection);
  // Started together, at one instant: their baselines describe the same store, and
  // detectors learning from the same window share its read (paths, depth).
  const startedAt = Date.now();
  const started = await Promise.allSettled(built.streaming.map(async (d) => d.start?.(ctx, startedAt)));
  const streaming: StreamingDetector[] = [];
  started.forEach((r, i) => {
    const d = built.streaming[i]!;
    if (r.status === 'fulfilled') streaming.push(d);
    else onError({ detector: d.name, phase: 'start', error: r.reason });
  });
  logger.info({ enabled: detection.enabled, source: detection.source, streaming: streaming.map((d) => d.name), windowed: built.windowed.map((d) => d.name) }, 'detection');
  const stage = streaming.length === 0 ? undefined : new DetectStage(streaming, {
    onError,
    onSignals: (detector, out) => { for (const s of out.signals) m.signals.inc({ detector, kind: s.kind }); },
  });
  return { stage, windowed: built.windowed, metrics: m, onError, counted };
}

/** The revocation watcher's metrics: how long a revocation took to reach this processor, and how many are in force. */
function revocationInstruments(metrics: Metrics): { lag: Histogram; active(read: () => number): void } {
  const lag = new Histogram({
    name: 'chainsight_revocation_apply_lag_seconds',
    help: 'Time from a revocation\'s insert to this processor applying it',
    buckets: [0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30],
    registers: [metrics.registry],
  });
  return {
    lag,
    active(read) {
      new Gauge({ name: 'chainsight_revocations_active', help: 'Revocations in force in this processor', registers: [metrics.registry], collect() { this.set(read()); } });
    },
  };
}
