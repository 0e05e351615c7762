import type { AgentSpan } from '../model/span.js';
import type { SpanDetail } from '../verify/index.js';
import type { SpanBatch, Stage } from './stage.js';

/**
 * What verification tells the pipeline about one span: the verifier's own
 * detail (verdict, summary, chain hash, check, cache hit). Synchronous when the
 * chain is cached, so the hot path never waits on a microtask.
 */
export type VerifyFn = (span: AgentSpan) => SpanDetail | Promise<SpanDetail>;

/**
 * The first stage: every span's chain verdict, plus the problems decoding
 * found and repaired (times outside what the store can hold), which fail the
 * verdict rather than the span.
 */
export class VerifyStage implements Stage {
  readonly name = 'verify';
  constructor(private readonly verify: VerifyFn) {}

  process(batch: SpanBatch): void | Promise<void> {
    const { spans, details } = batch;
    for (let i = 0; i < spans.length; i++) {
      const span = spans[i]!;
      const d = this.verify(span);
      // The first pending verification moves the rest of the batch to the async path.
      if (d instanceof Promise) return this.finishAsync(batch, i, d);
      details[i] = d;
      if (span.ingestIssues !== undefined) for (const r of span.ingestIssues) batch.addReason(i, r);
    }
  }

  private async finishAsync(batch: SpanBatch, from: number, first: Promise<SpanDetail>): Promise<void> {
    const { spans, details } = batch;
    for (let i = from; i < spans.length; i++) {
      const span = spans[i]!;
      details[i] = i === from ? await first : await this.verify(span);
      if (span.ingestIssues !== undefined) for (const r of span.ingestIssues) batch.addReason(i, r);
    }
  }
}
