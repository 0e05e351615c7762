import {
  Kafka,
  Partitioners,
  logLevel,
  type Consumer,
  type EachBatchPayload,
  type Producer,
} from 'kafkajs';
import type { SpanSink } from '../pipeline/types.js';
import { backoffDelay, DEFAULT_BACKOFF, sleep, type BackoffPolicy } from './kafka-backoff.js';
import { consoleErrorLogger, kafkajsLogCreator, type KafkaLogger } from './kafka-logging.js';
import { authenticateBatch, deadLetterOf, deadLetterOfRefusal, decodeBatch, errorText, type BearerCheck, type SpanDecoder } from './kafka-message.js';
import { KafkaSourceCounters, type KafkaSourceMetrics } from './kafka-metrics.js';

export { ensureTopics, type TopicSpec } from './kafka-admin.js';
export { DLQ_HEADER, detectFormat, type OtlpFormat, type SpanDecoder } from './kafka-message.js';
export { KafkaSourceCounters, type KafkaSourceMetrics } from './kafka-metrics.js';
export type { KafkaLogger } from './kafka-logging.js';

export interface KafkaSpanSourceOptions {
  brokers: string[];
  groupId: string;
  /** Default 'otlp_spans' (the OTel Collector kafka exporter's default topic). */
  topic?: string;
  /** Default `${topic}.dlq`, i.e. 'otlp_spans.dlq'. */
  dlqTopic?: string;
  sink: SpanSink;
  decode: SpanDecoder;
  /** Verifies a JWT-SVID the Collector copied into the record's `authorization` header; without it such headers are ignored. */
  authenticate?: BearerCheck;
  metrics?: KafkaSourceMetrics;
  logger?: KafkaLogger;
  clientId?: string;
  /** Backoff between retries of a failed sink or DLQ write. */
  retry?: BackoffPolicy;
  /** Largest span array handed to one sink.ingest call. Default 5000. */
  maxSpansPerIngest?: number;
  /** Read from the earliest offset when the group has no committed offset. Default true. */
  fromBeginning?: boolean;
  /** kafkajs group timings; the defaults (30s / 3s) suit production, tests shorten them. */
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /**
   * How long the broker may hold an empty fetch. Also bounds how long stop()
   * waits for the fetch in flight; kafkajs's 5s default makes every stop slow.
   * Default 1000.
   */
  fetchMaxWaitMs?: number;
}

/** Thrown inside a batch when the source stops or the partition was taken away mid-retry. */
class Abandoned extends Error {}

/**
 * The processor as a Kafka consumer group member: reads OTLP trace exports,
 * hands the decoded spans to the pipeline, and commits offsets only once the
 * pipeline has stored them (at-least-once; the store de-duplicates redeliveries).
 */
export class KafkaSpanSource {
  readonly topic: string;
  readonly dlqTopic: string;
  readonly metrics: KafkaSourceMetrics;
  private readonly opts: KafkaSpanSourceOptions;
  private readonly logger: KafkaLogger;
  private readonly retryPolicy: BackoffPolicy;
  private readonly maxSpansPerIngest: number;
  private readonly kafka: Kafka;
  private consumer: Consumer | undefined;
  private producer: Producer | undefined;
  private stopping = new AbortController();
  private assigned: number[] = [];
  private joins = 0;

  constructor(opts: KafkaSpanSourceOptions) {
    this.opts = opts;
    this.topic = opts.topic ?? 'otlp_spans';
    this.dlqTopic = opts.dlqTopic ?? `${this.topic}.dlq`;
    this.metrics = opts.metrics ?? new KafkaSourceCounters();
    this.logger = opts.logger ?? consoleErrorLogger;
    this.retryPolicy = opts.retry ?? DEFAULT_BACKOFF;
    this.maxSpansPerIngest = Math.max(1, opts.maxSpansPerIngest ?? 5000);
    this.kafka = new Kafka({
      brokers: opts.brokers,
      clientId: opts.clientId ?? 'chainsight',
      logLevel: logLevel.WARN,
      logCreator: kafkajsLogCreator(this.logger),
    });
  }

  /** Partitions of the topic this member holds after its last group join. */
  assignment(): number[] {
    return [...this.assigned];
  }

  /** How many times this member has (re)joined its group since start(): 1 means no rebalance hit it. */
  groupJoins(): number {
    return this.joins;
  }

  /** Partitions held back while the sink (or DLQ) is failing. */
  pausedPartitions(): number[] {
    const entry = this.consumer?.paused().find((p) => p.topic === this.topic);
    return entry ? [...entry.partitions].sort((a, b) => a - b) : [];
  }

  async start(): Promise<void> {
    if (this.consumer) return;
    this.stopping = new AbortController();
    // Idempotent producer: a retried DLQ write after a lost ack is not duplicated.
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    const consumer = this.kafka.consumer({
      groupId: this.opts.groupId,
      sessionTimeout: this.opts.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: this.opts.heartbeatIntervalMs ?? 3_000,
      maxWaitTimeInMs: this.opts.fetchMaxWaitMs ?? 1_000,
    });
    this.joins = 0;
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      this.joins += 1;
      this.assigned = [...(event.payload.memberAssignment[this.topic] ?? [])].sort((a, b) => a - b);
      this.logger.info?.({ groupId: this.opts.groupId, partitions: this.assigned }, 'kafka group joined');
    });
    this.producer = producer;
    this.consumer = consumer;
    await producer.connect();
    await consumer.connect();
    await consumer.subscribe({ topics: [this.topic], fromBeginning: this.opts.fromBeginning ?? true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.handleBatch(payload),
    });
  }

  /** Leaves the group. A batch in flight is abandoned uncommitted, so its messages are redelivered. */
  async stop(): Promise<void> {
    const { consumer, producer } = this;
    if (!consumer) return;
    this.stopping.abort();
    this.consumer = undefined;
    this.producer = undefined;
    this.assigned = [];
    await consumer.disconnect();
    await producer?.disconnect();
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const { topic, partition } = batch;
    const producer = this.producer;
    if (!producer || this.stopping.signal.aborted) return;
    if (batch.isEmpty() || !payload.isRunning() || payload.isStale()) return;
    this.metrics.messagesConsumed(topic, partition, batch.messages.length);

    const decoded = decodeBatch(batch.messages, this.opts.decode);
    if (this.opts.authenticate) await authenticateBatch(batch.messages, decoded, this.opts.authenticate);
    if (decoded.rejected > 0) {
      this.metrics.spansRejected(decoded.rejected);
      this.logger.debug?.({ topic, partition, errors: decoded.errors.slice(0, 5) }, 'spans rejected by decoder');
    }

    let resume: (() => void) | undefined;
    const pauseOnce = (): void => {
      if (resume) return;
      resume = payload.pause();
      this.metrics.paused?.(topic, partition, true);
    };
    try {
      // Dead letters first: past this point the poison messages are safe in the DLQ.
      if (decoded.poison.length > 0) {
        const messages = decoded.poison.map((p) => deadLetterOf(p, { topic, partition }));
        await this.withRetry('dlq', payload, pauseOnce, async () => {
          await producer.send({ topic: this.dlqTopic, acks: -1, messages });
        });
        this.metrics.deadLettered(topic, partition, messages.length);
        for (const p of decoded.poison) {
          this.logger.warn({ topic, partition, offset: p.offset, error: p.error }, 'message dead-lettered');
        }
      }

      for (let i = 0; i < decoded.spans.length; i += this.maxSpansPerIngest) {
        const chunk = decoded.spans.slice(i, i + this.maxSpansPerIngest);
        const result = await this.withRetry('sink', payload, pauseOnce, () => this.opts.sink.ingest(chunk));
        this.metrics.spansIngested(result.accepted);
        if (result.rejected > 0) this.metrics.spansRejected(result.rejected);
        const refused = result.refused ?? [];
        if (refused.length > 0) {
          // The rest of the chunk is stored; the refused rows go to the DLQ so the partition moves on.
          const lastOffset = decoded.offsets[Math.min(i + chunk.length, decoded.offsets.length) - 1] ?? batch.lastOffset();
          const messages = refused.map((r) =>
            deadLetterOfRefusal(r, { topic, partition, offset: r.spanIndex >= 0 ? (decoded.offsets[i + r.spanIndex] ?? lastOffset) : lastOffset }),
          );
          await this.withRetry('dlq', payload, pauseOnce, async () => {
            await producer.send({ topic: this.dlqTopic, acks: -1, messages });
          });
          this.metrics.refusedDeadLettered?.(topic, partition, messages.length);
          this.logger.warn({ topic, partition, rows: messages.length, code: refused[0]!.error.code, error: refused[0]!.error.message.slice(0, 300) }, 'rows refused by the store dead-lettered');
        }
      }
    } catch (err) {
      if (err instanceof Abandoned) return; // not committed: whoever owns the partition next rereads it
      throw err;
    } finally {
      if (resume) {
        resume();
        this.metrics.paused?.(topic, partition, false);
      }
    }

    // Everything up to lastOffset is stored (or dead-lettered): move past it and commit.
    const last = batch.lastOffset();
    payload.resolveOffset(last);
    await payload.commitOffsetsIfNecessary({
      topics: [{ topic, partitions: [{ partition, offset: (BigInt(last) + 1n).toString() }] }],
    });
    this.metrics.offsetsCommitted(topic, partition);
    this.metrics.lag(topic, partition, Number(batch.offsetLag()));
    await payload.heartbeat();
  }

  /**
   * Runs `op` until it succeeds. While it keeps failing the partition stays
   * paused, the member keeps heartbeating so the group does not evict it, and
   * the loop gives up (Abandoned) when the source stops or the partition is
   * reassigned; a rebalance surfaces as a heartbeat error, rethrown so kafkajs rejoins.
   */
  private async withRetry<T>(
    stage: 'sink' | 'dlq',
    payload: EachBatchPayload,
    pause: () => void,
    op: () => Promise<T>,
  ): Promise<T> {
    const signal = this.stopping.signal;
    for (let attempt = 0; ; attempt++) {
      try {
        return await op();
      } catch (err) {
        if (signal.aborted || !payload.isRunning() || payload.isStale()) throw new Abandoned();
        pause();
        this.metrics.retry(stage);
        const delay = backoffDelay(attempt, this.retryPolicy);
        this.logger.warn(
          { stage, topic: payload.batch.topic, partition: payload.batch.partition, attempt: attempt + 1, delayMs: delay, error: errorText(err) },
          stage === 'sink' ? 'span sink failed; retrying' : 'dead-letter write failed; retrying',
        );
        await this.waitHeartbeating(delay, payload);
      }
    }
  }

  private async waitHeartbeating(ms: number, payload: EachBatchPayload): Promise<void> {
    const signal = this.stopping.signal;
    const until = Date.now() + ms;
    for (let left = ms; left > 0; left = until - Date.now()) {
      const slept = await sleep(Math.min(left, 1000), signal);
      if (!slept || !payload.isRunning() || payload.isStale()) throw new Abandoned();
      await payload.heartbeat(); // kafkajs throttles this to heartbeatInterval
    }
  }
}
