/**
 * What the Kafka source reports. Plain callbacks so the process can wire them
 * to prom-client (or anything else) without this module knowing about it.
 */
export interface KafkaSourceMetrics {
  messagesConsumed(topic: string, partition: number, count: number): void;
  spansIngested(count: number): void;
  /** Spans refused by the decoder or the sink (counted, not stored). */
  spansRejected(count: number): void;
  deadLettered(topic: string, partition: number, count: number): void;
  /** Rows the store refused for good, sent to the dead-letter topic (the rest of their messages was stored). */
  refusedDeadLettered?(topic: string, partition: number, count: number): void;
  /** One failed attempt that will be retried; `stage` says what failed. */
  retry(stage: 'sink' | 'dlq'): void;
  /** Messages after the last one processed on this partition (high watermark - 1 - last offset). */
  lag(topic: string, partition: number, lag: number): void;
  offsetsCommitted(topic: string, partition: number): void;
  /** A partition paused for backpressure (true) or resumed (false). */
  paused?(topic: string, partition: number, paused: boolean): void;
}

/** In-memory counters: the default when no metrics are wired, and what tests read. */
export class KafkaSourceCounters implements KafkaSourceMetrics {
  consumed = 0;
  ingested = 0;
  rejected = 0;
  deadLetteredCount = 0;
  refusedDeadLetteredCount = 0;
  retries = { sink: 0, dlq: 0 };
  commits = 0;
  readonly lagByPartition = new Map<string, number>();

  messagesConsumed(_topic: string, _partition: number, count: number): void {
    this.consumed += count;
  }
  spansIngested(count: number): void {
    this.ingested += count;
  }
  spansRejected(count: number): void {
    this.rejected += count;
  }
  deadLettered(_topic: string, _partition: number, count: number): void {
    this.deadLetteredCount += count;
  }
  refusedDeadLettered(_topic: string, _partition: number, count: number): void {
    this.refusedDeadLetteredCount += count;
  }
  retry(stage: 'sink' | 'dlq'): void {
    this.retries[stage] += 1;
  }
  lag(topic: string, partition: number, lag: number): void {
    this.lagByPartition.set(`${topic}/${partition}`, lag);
  }
  offsetsCommitted(): void {
    this.commits += 1;
  }
}
