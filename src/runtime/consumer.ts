import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { ChainsightConfig } from '../config/config.js';
import { KafkaSpanSource, ensureTopics, type KafkaSourceMetrics } from '../ingest/kafka-source.js';
import { decodeOtlp } from '../ingest/otlp/decode.js';
import { peerFromJwtSvid } from '../ingest/peer-identity.js';
import { apiExposure, createApiApp } from './api-app.js';
import type { Metrics } from '../serve/metrics.js';
import { openPipeline, type Pipeline } from './pipeline.js';
import type { Logger } from './logger.js';
import { prepareDirectories, startTrustReloading, type TrustReloading, type TrustReloadOptions } from './trust-reload.js';

export interface RunningConsumer {
  pipeline: Pipeline;
  source: KafkaSpanSource;
  /** Trust bundle reloading (on change, or `reload()` on SIGHUP). */
  trust: TrustReloading;
  /** Base URL of /metrics and /healthz ('' when not served). */
  apiUrl: string;
  stop(): Promise<void>;
}

/** Kafka source metrics into the process's Prometheus registry. */
export function kafkaMetrics(m: Metrics): KafkaSourceMetrics {
  return {
    messagesConsumed: (_t, _p, n) => m.kafkaMessages.inc(n),
    spansIngested: (n) => m.spansReceived.inc({ source: 'kafka' }, n),
    spansRejected: (n) => m.spansRejected.inc({ source: 'kafka' }, n),
    deadLettered: (_t, _p, n) => m.kafkaDeadLettered.inc(n),
    refusedDeadLettered: (_t, _p, n) => m.quarantined.inc({ destination: 'dlq' }, n),
    retry: () => m.kafkaRetries.inc(),
    lag: (topic, partition, lag) => m.kafkaLag.set({ topic, partition: String(partition) }, lag),
    offsetsCommitted: () => m.kafkaCommits.inc(),
    paused: (topic, partition, paused) => m.kafkaPaused.set({ topic, partition: String(partition) }, paused ? 1 : 0),
  };
}

/**
 * `chainsight consume`: one member of the processor consumer group. Any
 * number run side by side; Kafka spreads the topic's partitions among them.
 */
export async function startConsumer(
  config: ChainsightConfig,
  logger: Logger,
  opts: { serveApi?: boolean; retry?: { initialMs: number; maxMs: number }; sessionTimeoutMs?: number; heartbeatIntervalMs?: number; trustReload?: TrustReloadOptions } = {},
): Promise<RunningConsumer> {
  if (config.kafka.brokers.length === 0) throw new Error('KAFKA_BROKERS is not set');
  if (opts.serveApi !== false) apiExposure(config.api.host, config.apiAccess);
  await prepareDirectories(config);
  const pipeline = await openPipeline(config, logger);
  const trust = await startTrustReloading(pipeline, config, logger, opts.trustReload);
  const source = new KafkaSpanSource({
    brokers: config.kafka.brokers,
    groupId: config.kafka.groupId,
    topic: config.kafka.topic,
    dlqTopic: config.kafka.dlqTopic,
    sink: pipeline.processor,
    decode: (value, format) => decodeOtlp(value, format, config.limits),
    // A JWT-SVID the Collector carried in the record's authorization header, judged as the receiver judges one.
    authenticate: (token, receivedAtMs) => peerFromJwtSvid(token, pipeline.trust, { audiences: config.otlp.audiences, skewSec: config.policy.clockSkewSec }, receivedAtMs),
    metrics: kafkaMetrics(pipeline.metrics),
    logger,
    ...(opts.retry ? { retry: opts.retry } : {}),
    sessionTimeoutMs: opts.sessionTimeoutMs ?? config.kafka.sessionTimeoutMs,
    heartbeatIntervalMs: opts.heartbeatIntervalMs ?? config.kafka.heartbeatIntervalMs,
  });
  let apiUrl = '';
  let close = async () => undefined as void;
  try {
    await ensureTopics(config.kafka.brokers, [
      { topic: config.kafka.topic, partitions: config.kafka.partitions },
      { topic: config.kafka.dlqTopic, partitions: 1 },
    ], { durability: config.kafka.durability, logger });
    await source.start();
    if (opts.serveApi !== false) {
      const server = createApiApp(config, pipeline, logger).listen(config.api.port, config.api.host);
      await once(server, 'listening');
      const a = server.address() as AddressInfo;
      apiUrl = `http://${a.address}:${a.port}`;
      close = async () => {
        server.closeAllConnections();
        server.close();
      };
    }
  } catch (err) {
    // A member that failed to start must not stay in the group or hold the store open.
    await source.stop().catch(() => undefined);
    trust.close();
    await pipeline.close();
    throw err;
  }
  logger.info({ brokers: config.kafka.brokers, topic: config.kafka.topic, group: config.kafka.groupId, api: apiUrl }, 'consumer started');
  // Idempotent: a signal handler and a caller's cleanup may both stop the member.
  let stopped: Promise<void> | undefined;
  return {
    pipeline, source, trust, apiUrl,
    stop() {
      stopped ??= (async () => {
        trust.close();
        await source.stop();
        await close();
        await pipeline.close();
      })();
      return stopped;
    },
  };
}
