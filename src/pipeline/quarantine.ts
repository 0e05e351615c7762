import { toQuarantineRow, type QuarantineRow } from '../store/quarantine.js';
import type { Sink } from './sinks.js';
import type { IngestResult, SpanSink } from './types.js';
import type { AgentSpan } from '../model/span.js';
import type { StoreError } from '../store/errors.js';

/**
 * The OTLP/HTTP path's answer to rows the store refused for good: they go to
 * the quarantine table with their error, and the request still succeeds for
 * everything else (the receiver answers 200 with partial_success). A
 * quarantine write that fails transiently fails the delivery (503): the
 * exporter's retry re-stores the good rows (folded away as duplicates) and
 * quarantines the bad ones again.
 */
export class QuarantiningSink implements SpanSink {
  constructor(
    private readonly inner: SpanSink,
    private readonly quarantine: Sink<QuarantineRow>,
    private readonly source: string,
    private readonly hooks: { quarantined?(rows: number): void; lost?(rows: QuarantineRow[], err: StoreError): void } = {},
  ) {}

  async ingest(spans: AgentSpan[]): Promise<IngestResult> {
    const result = await this.inner.ingest(spans);
    const refused = result.refused;
    if (refused === undefined || refused.length === 0) return result;
    const now = Date.now();
    const rows = refused.map((r) => toQuarantineRow(r, this.source, now));
    const lost = await this.quarantine.write(rows);
    this.hooks.quarantined?.(rows.length - lost.length);
    // Quarantine rows are built to be storable; one refused anyway is reported, never retried forever.
    if (lost.length > 0) this.hooks.lost?.(lost.map((l) => l.row), lost[0]!.error);
    return result;
  }
}
