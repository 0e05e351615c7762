import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The process's Prometheus metrics. One registry per pipeline instance so
 * tests (and several instances in one process) don't collide.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'chainsight_otlp_requests_total', help: 'OTLP/HTTP export requests by response status and encoding', labelNames: ['status', 'encoding'], registers: [this.registry] });
  readonly requestBytes = new Counter({ name: 'chainsight_otlp_request_bytes_total', help: 'Bytes of OTLP request bodies as received', registers: [this.registry] });
  readonly spansReceived = new Counter({ name: 'chainsight_spans_received_total', help: 'Spans decoded from any source', labelNames: ['source'], registers: [this.registry] });
  readonly spansRejected = new Counter({ name: 'chainsight_spans_rejected_total', help: 'Spans refused at decoding (no trace or span id)', labelNames: ['source'], registers: [this.registry] });
  readonly decodeErrors = new Counter({ name: 'chainsight_decode_errors_total', help: 'Bodies or messages that could not be decoded', labelNames: ['source'], registers: [this.registry] });
  readonly verdicts = new Counter({ name: 'chainsight_verdicts_total', help: 'Verdicts on stored actions', labelNames: ['status'], registers: [this.registry] });
  readonly verdictReasons = new Counter({ name: 'chainsight_verdict_reasons_total', help: 'Failing verdict reasons by code', labelNames: ['reason'], registers: [this.registry] });
  readonly chainCache = new Counter({ name: 'chainsight_chain_cache_total', help: 'Chain verification cache lookups', labelNames: ['result'], registers: [this.registry] });
  readonly batchRows = new Histogram({ name: 'chainsight_store_batch_rows', help: 'Rows per INSERT', labelNames: ['table'], buckets: [1, 10, 100, 500, 1000, 5000, 10000, 50000], registers: [this.registry] });
  readonly writeSeconds = new Histogram({ name: 'chainsight_store_write_seconds', help: 'INSERT latency until ClickHouse acknowledged', labelNames: ['table'], buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [this.registry] });
  readonly writeErrors = new Counter({ name: 'chainsight_store_write_errors_total', help: 'Failed INSERTs (rows not stored, caller retries)', labelNames: ['table'], registers: [this.registry] });
  readonly storeRefused = new Counter({ name: 'chainsight_store_refused_rows_total', help: 'Rows the store refused for good (the rest of their batch was stored), by table and error code', labelNames: ['table', 'code'], registers: [this.registry] });
  readonly quarantined = new Counter({ name: 'chainsight_quarantined_rows_total', help: 'Refused rows kept with their error: in the quarantine table (OTLP/HTTP) or the dead-letter topic (Kafka)', labelNames: ['destination'], registers: [this.registry] });
  readonly kafkaMessages = new Counter({ name: 'chainsight_kafka_messages_total', help: 'Kafka messages consumed', registers: [this.registry] });
  readonly kafkaDeadLettered = new Counter({ name: 'chainsight_kafka_dead_lettered_total', help: 'Kafka messages sent to the dead-letter topic', registers: [this.registry] });
  readonly kafkaRetries = new Counter({ name: 'chainsight_kafka_retries_total', help: 'Retries of a batch after the store refused it', registers: [this.registry] });
  readonly kafkaCommits = new Counter({ name: 'chainsight_kafka_commits_total', help: 'Offset commits after stored batches', registers: [this.registry] });
  readonly kafkaLag = new Gauge({ name: 'chainsight_kafka_lag', help: 'Consumer lag in messages per partition', labelNames: ['topic', 'partition'], registers: [this.registry] });
  readonly kafkaPaused = new Gauge({ name: 'chainsight_kafka_paused', help: '1 while a partition is paused for backpressure', labelNames: ['topic', 'partition'], registers: [this.registry] });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'chainsight_' });
  }
}
