import type { AgentSpan } from '../../model/span.js';
import { type IngestLimits, LimitError } from '../limits.js';

/** What one OTLP body decoded into. */
export interface DecodeResult {
  spans: AgentSpan[];
  /** Spans refused (no valid trace or span id); counted, never stored. */
  rejected: number;
  /** Distinct rejection reasons with their counts, e.g. "2 spans: trace id is missing or not 16 bytes". */
  errors: string[];
}

/** Distinct reasons reported per body; the rest are summed into the last line. */
const MAX_DISTINCT_REASONS = 10;

/** Accumulates one body's spans and rejections; enforces the spans-per-request limit. */
export class DecodeState {
  readonly spans: AgentSpan[] = [];
  private rejected = 0;
  private seen = 0;
  private readonly reasons = new Map<string, number>();

  constructor(readonly limits: IngestLimits) {}

  /** Call once per span encountered, before decoding it. */
  countSpan(): void {
    if (++this.seen > this.limits.maxSpansPerRequest) {
      throw new LimitError(
        'maxSpansPerRequest',
        `request carries more than ${this.limits.maxSpansPerRequest} spans`,
      );
    }
  }

  accept(span: AgentSpan): void {
    this.spans.push(span);
  }

  reject(reason: string): void {
    this.rejected++;
    this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
  }

  result(): DecodeResult {
    const errors: string[] = [];
    let others = 0;
    for (const [reason, count] of this.reasons) {
      if (errors.length < MAX_DISTINCT_REASONS) errors.push(`${count} span${count === 1 ? '' : 's'}: ${reason}`);
      else others += count;
    }
    if (others > 0) errors.push(`${others} span${others === 1 ? '' : 's'}: other reasons`);
    return { spans: this.spans, rejected: this.rejected, errors };
  }
}

/** Id checks shared by both encodings: ids arrive here as lowercase hex ('' when absent). */
export const ZERO_TRACE_ID = '0'.repeat(32);
export const ZERO_SPAN_ID = '0'.repeat(16);

/** Why a span cannot be kept, or null when its ids are valid. */
export function idProblem(traceId: string, spanId: string): string | null {
  if (traceId.length !== 32) return 'trace id is missing or not 16 bytes (32 hex digits)';
  if (traceId === ZERO_TRACE_ID) return 'trace id is all zeros';
  if (spanId.length !== 16) return 'span id is missing or not 8 bytes (16 hex digits)';
  if (spanId === ZERO_SPAN_ID) return 'span id is all zeros';
  return null;
}
