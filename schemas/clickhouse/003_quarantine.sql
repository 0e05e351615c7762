-- Rows the store refused for good (a value ClickHouse cannot take), kept with
-- the error so that nothing accepted from a source is lost silently. Written
-- by the OTLP/HTTP path; the Kafka path sends the same rows to the
-- dead-letter topic instead. `row` is the refused row as JSON, exactly as it
-- was sent; trace_id, span_id and task_id are copied out of it ('' for rows
-- without them, such as delegation links) so refusals can be found by span.
-- table_name is the table that refused the row, or 'spans' for a span a
-- pipeline stage failed on (error_code STAGE_FAILED; row.span is the span).
CREATE TABLE IF NOT EXISTS ${db}.quarantine
(
    received_at     DateTime64(3),
    source          LowCardinality(String),
    table_name      LowCardinality(String),
    error_code      LowCardinality(String),
    error           String CODEC(ZSTD(1)),
    trace_id        String,
    span_id         String,
    task_id         String,
    row             String CODEC(ZSTD(3))
)
ENGINE = ReplacingMergeTree
ORDER BY (table_name, received_at, trace_id, span_id)
