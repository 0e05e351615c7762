-- Rows the store refused for a reason other than availability, with the
-- error, so they are findable rather than lost. Kept 30 days.
CREATE TABLE IF NOT EXISTS ${db}.quarantine
(
    received_at DateTime64(3),
    source LowCardinality(String),
    table_name LowCardinality(String),
    error_code      LowCardinality(String),
    error String,
    trace_id String,
    span_id String,
    task_id String,
    row String
)
ENGINE = MergeTree
ORDER BY (received_at)
TTL toDateTime(received_at) + INTERVAL 30 DAY
