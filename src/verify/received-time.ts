/**
 * Time you can trust: a span's self-reported start bounded by when chainsight
 * received it (schemas/delegation-token.md §4a). Chain time checks run at the
 * span's start; without this bound a sender could backdate a span into a
 * window where an expired chain was still valid. Pure, except the stage glue.
 */
import type { AgentSpan } from '../model/span.js';
import type { Reason } from '../model/verdict.js';
import type { SpanBatch, Stage } from '../pipeline/stage.js';

export interface ReceivedTimeBound {
  /** Oldest a span's start may be, relative to its receipt, in seconds. */
  maxAgeSec: number;
  /** Tolerated clock difference between senders and chainsight, in seconds. */
  skewSec: number;
}

/** Default maximum age: 2 h (covers minute-long spans, export batching and short Collector outages). */
export const DEFAULT_MAX_SPAN_AGE_SEC = 7200;

/**
 * The received time of a Kafka message: its timestamp (set by the Collector's
 * producer, or the broker with LogAppendTime), never later than the consumer's
 * own clock, which stands in when the timestamp is missing or unreadable.
 */
export function kafkaReceivedAtMs(timestamp: string | undefined, nowMs: number): number {
  const ts = timestamp === undefined || !/^\d{1,15}$/.test(timestamp) ? NaN : Number(timestamp);
  return ts > 0 ? Math.min(ts, nowMs) : nowMs;
}

/** Stamps every span of one delivery with its received time. */
export function stampReceived(spans: readonly AgentSpan[], receivedAtMs: number): void {
  for (const s of spans) s.receivedAtMs = receivedAtMs;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * The bound's reason for one span, if it breaks it. A span never received
 * (made in-process) or without a usable start is left alone: the verifier
 * already fails a missing start with `span.start_missing`.
 */
export function receivedTimeReason(span: AgentSpan, bound: ReceivedTimeBound): Reason | undefined {
  const received = span.receivedAtMs;
  const start = span.startMs;
  if (received === undefined || !(received > 0) || !(start > 0) || !Number.isFinite(start)) return undefined;
  if (start > received + bound.skewSec * 1000) {
    return { code: 'time.start_in_future', message: `span starts ${iso(start)}, after it was received (${iso(received)}) by more than the ${bound.skewSec} s skew` };
  }
  if (start < received - bound.maxAgeSec * 1000) {
    return { code: 'time.start_too_old', message: `span starts ${iso(start)}, more than ${bound.maxAgeSec} s before it was received (${iso(received)})` };
  }
  return undefined;
}

/** The bound as a processor stage: right after verification, a reason per span outside it. */
export class ReceivedTimeStage implements Stage {
  readonly name = 'received-time';
  constructor(private readonly bound: ReceivedTimeBound) {}

  process(batch: SpanBatch): void {
    const { spans } = batch;
    for (let i = 0; i < spans.length; i++) {
      const r = receivedTimeReason(spans[i]!, this.bound);
      if (r !== undefined) batch.addReason(i, r);
    }
  }
}
