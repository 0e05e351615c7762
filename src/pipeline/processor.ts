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

  /** `nowMs`: the batch's judging time; a replay on a simulated clock (the detection evaluation) passes its own. */
  async ingest(spans: AgentSpan[], nowMs = Date.now()): Promise<IngestResult> {
    if (spans.length === 0) return { accepted: 0, rejected: 0, errors: [] };
    const { batch, index, failed } = await this.runStages(spans, nowMs);
    // Every kind's sinks are looked up before any write starts: a kind without
    // a sink fails the batch before anything is half written.
    const routes = [...batch.output()].map((out) => ({ out, sinks: this.sinks.sinksOf(out.kind) }));
    const writes = routes.flatMap(({ out, sinks }) => sinks.map((sink) => sink.write(out.rows).then((refused) => refusalsOf(out, refused, index))));
    const refused = failed.concat(...(await Promise.all(writes)));
    for (const stage of this.stages) stage.stored?.(batch);
    const perSpan = new Set(routes.filter((r) => r.out.kind.perSpan).map((r) => r.out.kind.name)).add(FAILED_SPANS);
    const result = resultOf(spans, perSpan, refused);
    this.observer?.onBatch(summarize(batch, result.rejected));
    return result;
  }

  /**
   * The stages over the batch. When a stage throws, the spans are tried one
   * by one: spans that fail alone are set aside as refused (a stage bug
   * meeting one hostile span must not fail the others), and the rest go on as
   * one batch. Not when the error says it is transient (permanent: false, an
   * outage of something a stage calls), nor when every span fails alone (the
   * stage itself is broken): then the whole delivery fails and is retried.
   */
  private async runStages(spans: AgentSpan[], nowMs: number): Promise<{ batch: SpanBatch; index?: number[]; failed: Refusal[] }> {
    try {
      return { batch: await this.process(spans, nowMs), failed: [] };
    } catch (err) {
      if (!isolatable(err) || spans.length === 1) throw err;
      const index: number[] = [];
      const failed: Refusal[] = [];
      for (let i = 0; i < spans.length; i++) {
        const span = spans[i]!;
        try {
          await this.process([span], nowMs);
          index.push(i);
        } catch (e) {
          if (!isolatable(e)) throw e;
          const message = `span failed in the pipeline: ${e instanceof Error ? e.message : String(e)}`;
          failed.push({ kind: FAILED_SPANS, row: { trace_id: span.traceId, span_id: span.spanId, task_id: span.taskId, span }, spanIndex: i, error: { code: 'STAGE_FAILED', message } });
        }
      }
      if (index.length === 0) throw err;
      return { batch: await this.process(index.map((i) => spans[i]!), nowMs), index, failed };
    }
  }

  private async continueAsync(batch: SpanBatch, from: number, pending: Promise<void>): Promise<SpanBatch> {
    await pending;
    for (let s = from + 1; s < this.stages.length; s++) await this.stages[s]!.process(batch);
    return batch;
  }
}

/** Row kind of spans set aside because a stage failed on them (the row carries the span). */
export const FAILED_SPANS = 'spans';

function isolatable(err: unknown): boolean {
  return !(typeof err === 'object' && err !== null && (err as { permanent?: unknown }).permanent === false);
}

/** Refusals with span indices of the delivery (`index` maps the batch's spans back when some were set aside). */
function refusalsOf(out: RowOutput, refused: { row: unknown; index: number; error: Refusal['error'] }[], index?: number[]): Refusal[] {
  return refused.map((r) => {
    const origin = out.origins[r.index] ?? -1;
    return { kind: out.kind.name, row: r.row, spanIndex: origin >= 0 && index ? index[origin]! : origin, error: r.error };
  });
}

/** Spans whose own row (a per-span kind) was refused count as rejected; the partial-success message names them. */
function resultOf(spans: readonly AgentSpan[], perSpan: Set<string>, refused: Refusal[]): IngestResult {
  const total = spans.length;
  if (refused.length === 0) return { accepted: total, rejected: 0, errors: [] };
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
    const named = indices.slice(0, NAMED_SPANS).map((i) => `${spans[i]!.traceId}/${spans[i]!.spanId}`);
    const more = indices.length > NAMED_SPANS ? ` and ${indices.length - NAMED_SPANS} more` : '';
    const by = code === 'STAGE_FAILED' ? 'the pipeline' : 'the store';
    errors.push(`${indices.length} span${indices.length === 1 ? '' : 's'} refused by ${by} (${code}): ${named.join(', ')}${more}`);
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
