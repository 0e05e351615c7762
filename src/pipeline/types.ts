import type { AgentSpan } from '../model/span.js';

/** What a source learns back from the pipeline about one delivery. */
export interface IngestResult {
  accepted: number;
  /** Spans refused outright (e.g. no trace or span id); they are counted, not stored. */
  rejected: number;
  /** Why spans were rejected, for OTLP partial-success messages. */
  errors: string[];
}

/**
 * The pipeline as a source sees it. The promise resolves only after ClickHouse
 * acknowledged every row the spans produced, so a source may then acknowledge
 * upstream (HTTP 200, Kafka offset commit). It rejects when the store is
 * unavailable; nothing from that call is considered stored.
 */
export interface SpanSink {
  ingest(spans: AgentSpan[]): Promise<IngestResult>;
}
