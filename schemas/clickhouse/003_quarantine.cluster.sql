-- Cluster form of 003_quarantine: a replicated table on every node behind a
-- Distributed table sharded at random: refused rows are read by time, not by
-- task, and many have no usable task ID.
CREATE TABLE IF NOT EXISTS ${db}.quarantine_local ON CLUSTER '{cluster}'
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
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/quarantine_local', '{replica}')
ORDER BY (received_at)
TTL toDateTime(received_at) + INTERVAL 30 DAY;

CREATE TABLE IF NOT EXISTS ${db}.quarantine ON CLUSTER '{cluster}' AS ${db}.quarantine_local
ENGINE = Distributed('{cluster}', ${db}, quarantine_local, rand());
