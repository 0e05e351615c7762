/**
 * The processor's extension points: a batch context that stages read and
 * add to, and the Stage interface itself. A new stage (policy, detection)
 * plugs in by being listed in src/runtime/pipeline.ts; the processor never
 * names one.
 */
import type { AgentSpan } from '../model/span.js';
import type { Reason, Verdict } from '../model/verdict.js';
import { verdictOf } from '../model/verdict.js';
import type { SpanDetail } from '../verify/index.js';

/**
 * A kind of row a stage emits and a sink stores (usually one table).
 * `perSpan`: the kind has one row per span (actions), so a refused row means
 * a refused span in what the source answers.
 */
export interface RowKind<Row> {
  readonly name: string;
  readonly perSpan: boolean;
  /** Type-level only: ties the kind to its row shape. */
  readonly _row?: Row;
}

export function rowKind<Row>(name: string, opts: { perSpan?: boolean } = {}): RowKind<Row> {
  return Object.freeze({ name, perSpan: opts.perSpan ?? false });
}

/** Rows of one kind emitted for a batch, each with the span it came from (-1: none in particular). */
export interface RowOutput<Row = unknown> {
  kind: RowKind<Row>;
  rows: Row[];
  origins: number[];
}

/**
 * One batch of spans on its way through the stages. Spans are read-only;
 * stages add verdict reasons and rows. Everything is indexed by the span's
 * position in `spans`.
 */
export class SpanBatch {
  /** Verification detail per span, filled by the verify stage. */
  readonly details: SpanDetail[];
  /** Reasons added after verification (ingest checks, policy), per span; sparse. */
  private extra: Reason[][] | undefined;
  private readonly outputs = new Map<string, RowOutput>();

  constructor(
    readonly spans: readonly AgentSpan[],
    readonly nowMs: number,
  ) {
    this.details = new Array<SpanDetail>(spans.length);
  }

  /** Adds a reason to span i's verdict; any reason makes the verdict fail (fail closed). */
  addReason(i: number, reason: Reason): void {
    this.extra ??= [];
    (this.extra[i] ??= []).push(reason);
  }

  /** Span i's verdict: verification's, plus every reason added since. */
  verdict(i: number): Verdict {
    const base = this.details[i]!.verdict;
    const more = this.extra?.[i];
    return more === undefined ? base : verdictOf(base.reasons.concat(more));
  }

  /** Queues a row for its kind's sinks. */
  emit<Row>(kind: RowKind<Row>, row: Row, origin = -1): void {
    let out = this.outputs.get(kind.name) as RowOutput<Row> | undefined;
    if (out === undefined) {
      out = { kind, rows: [], origins: [] };
      this.outputs.set(kind.name, out as RowOutput);
    }
    out.rows.push(row);
    out.origins.push(origin);
  }

  /** Rows of a kind emitted so far (e.g. for a detection stage reading actions). */
  rows<Row>(kind: RowKind<Row>): readonly Row[] {
    return (this.outputs.get(kind.name)?.rows as Row[] | undefined) ?? [];
  }

  /** Every kind with rows, in the order first emitted. */
  output(): Iterable<RowOutput> {
    return this.outputs.values();
  }
}

/**
 * One step of the processor. `process` returns nothing when it finished
 * synchronously: the processor then moves on without a microtask, which
 * keeps cached-chain batches on a synchronous path. A stage that fails
 * because something it depends on is unavailable throws an error with
 * `permanent: false` (e.g. a StoreError), so the delivery is retried; any
 * other error is taken as the span's fault, and the spans it fails on alone
 * are set aside.
 */
export interface Stage {
  readonly name: string;
  process(batch: SpanBatch): void | Promise<void>;
  /** After every row of the batch was acknowledged by its sinks (stored, or refused for good). */
  stored?(batch: SpanBatch): void;
}
