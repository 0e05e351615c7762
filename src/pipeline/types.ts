import type { AgentSpan } from '../model/span.js';

/**
 * A row refused for good, traced back to the span it came from: by the store
 * (a StoreError's code, e.g. DECIMAL_OVERFLOW), or by the pipeline itself
 * (kind 'spans', code STAGE_FAILED: a stage failed on that span alone).
 */
export interface Refusal {
  /** Row kind (the table name for table sinks). */
  kind: string;
  row: unknown;
  /** Index in the spans handed to ingest; -1 when the row belongs to no span in particular. */
  spanIndex: number;
  error: { code: string; message: string };
}

/** What a source learns back from the pipeline about one delivery. */
export interface IngestResult {
  accepted: number;
  /** Spans refused (no trace or span id at decoding, or rows the store refused for good); counted, not stored. */
  rejected: number;
  /** Why spans were rejected, for OTLP partial-success messages. */
  errors: string[];
  /**
   * Rows the store refused for good (the rest of the batch is stored). The
   * source decides where they go: the quarantine table for OTLP/HTTP, the
   * dead-letter topic for Kafka.
   */
  refused?: Refusal[];
}

/**
 * The pipeline as a source sees it. The promise resolves only after ClickHouse
 * acknowledged every row the spans produced (or refused it for good, reported
 * in `refused`), so a source may then acknowledge upstream (HTTP 200, Kafka
 * offset commit). It rejects when the store is unavailable; nothing from that
 * call is considered stored.
 */
export interface SpanSink {
  ingest(spans: AgentSpan[]): Promise<IngestResult>;
}
