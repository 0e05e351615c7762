import type { AgentSpan } from '../model/span.js';
import type { SinkRegistry } from './sinks.js';
import { SpanBatch, type RowOutput, type Stage } from './stage.js';
import type { IngestResult, Refusal, SpanSink } from './types.js';

/** Counts of one stored batch, for metrics. */
export interface BatchSummary {
  spans: number;
  verified: number;
  failed: number;
  cacheHits: number;
  /** Failing reasons by code. */
  reasons: Map<string, number>;
  refused: number;
}

export interface ProcessorObserver {
  onBatch(summary: BatchSummary): void;
}

/** Span ids named in one partial-success message; the count says the rest. */
const NAMED_SPANS = 5;

/**
 * decode → stages → sinks, shared by every source (OTLP/HTTP, Kafka). The
 * stages and sinks come from src/runtime/pipeline.ts; the processor only runs
 * them in order and routes each row kind to its sinks. `ingest` resolves only
 * when every sink has acknowledged its rows.
 */
export class Processor implements SpanSink {
  constructor(
    private readonly stages: readonly Stage[],
    private readonly sinks: SinkRegistry,
    private readonly observer?: ProcessorObserver,
  ) {}

  /** The pure part: every stage over a batch, nothing written. */
  process(spans: readonly AgentSpan[], nowMs = Date.now()): SpanBatch | Promise<SpanBatch> {
    const batch = new SpanBatch(spans, nowMs);
    for (let s = 0; s < this.stages.length; s++) {
      const pending = this.stages[s]!.process(batch);
      if (pending !== undefined) return this.continueAsync(batch, s, pending);
    }
    return batch;
  }

  async ingest(spans: AgentSpan[]): Promise<IngestResult> {
    if (spans.length === 0) return { accepted: 0, rejected: 0, errors: [] };
    let batch = this.process(spans);
    if (batch instanceof Promise) batch = await batch;
    // Every kind's sinks are looked up before any write starts: a kind without
    // a sink fails the batch before anything is half written.
    const routes = [...batch.output()].map((out) => ({ out, sinks: this.sinks.sinksOf(out.kind) }));
    const writes = routes.flatMap(({ out, sinks }) => sinks.map((sink) => sink.write(out.rows).then((refused) => refusalsOf(out, refused))));
    const refused = (await Promise.all(writes)).flat();
    for (const stage of this.stages) stage.stored?.(batch);
    const result = resultOf(batch, refused);
    this.observer?.onBatch(summarize(batch, result.rejected));
    return result;
  }

  private async continueAsync(batch: SpanBatch, from: number, pending: Promise<void>): Promise<SpanBatch> {
    await pending;
    for (let s = from + 1; s < this.stages.length; s++) await this.stages[s]!.process(batch);
    return batch;
  }
}

function refusalsOf(out: RowOutput, refused: { row: unknown; index: number; error: Refusal['error'] }[]): Refusal[] {
  return refused.map((r) => ({ kind: out.kind.name, row: r.row, spanIndex: out.origins[r.index] ?? -1, error: r.error }));
}

/** Spans whose own row (a per-span kind) was refused count as rejected; the partial-success message names them. */
function resultOf(batch: SpanBatch, refused: Refusal[]): IngestResult {
  const total = batch.spans.length;
  if (refused.length === 0) return { accepted: total, rejected: 0, errors: [] };
  const perSpan = new Set<string>();
  for (const out of batch.output()) if (out.kind.perSpan) perSpan.add(out.kind.name);
  const bySpan = new Map<number, Refusal>();
  for (const r of refused) if (perSpan.has(r.kind) && r.spanIndex >= 0 && !bySpan.has(r.spanIndex)) bySpan.set(r.spanIndex, r);
  const errors: string[] = [];
  const byCode = new Map<string, number[]>();
  for (const [i, r] of bySpan) {
    const list = byCode.get(r.error.code);
    if (list) list.push(i);
    else byCode.set(r.error.code, [i]);
  }
  for (const [code, indices] of byCode) {
    const named = indices.slice(0, NAMED_SPANS).map((i) => `${batch.spans[i]!.traceId}/${batch.spans[i]!.spanId}`);
    const more = indices.length > NAMED_SPANS ? ` and ${indices.length - NAMED_SPANS} more` : '';
    errors.push(`${indices.length} span${indices.length === 1 ? '' : 's'} refused by the store (${code}): ${named.join(', ')}${more}`);
  }
  return { accepted: total - bySpan.size, rejected: bySpan.size, errors, refused };
}

function summarize(batch: SpanBatch, refused: number): BatchSummary {
  const s: BatchSummary = { spans: batch.spans.length, verified: 0, failed: 0, cacheHits: 0, reasons: new Map(), refused };
  for (let i = 0; i < batch.spans.length; i++) {
    if (batch.details[i]!.cacheHit) s.cacheHits++;
    const v = batch.verdict(i);
    if (v.status === 'verified') s.verified++;
    else {
      s.failed++;
      for (const r of v.reasons) s.reasons.set(r.code, (s.reasons.get(r.code) ?? 0) + 1);
    }
  }
  return s;
}
