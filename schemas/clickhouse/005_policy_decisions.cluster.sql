-- Cluster form of 005_policy_decisions: replicated tables on every node behind
-- a Distributed table sharded by task, like actions.
CREATE TABLE IF NOT EXISTS ${db}.policy_decisions_local ON CLUSTER '{cluster}'
(
    decision_id     String,
    ts              DateTime64(9) CODEC(Delta, ZSTD(1)),
    task_id         String,
    trace_id        String CODEC(ZSTD(1)),
    span_id         String CODEC(ZSTD(1)),
    agent_id        LowCardinality(String),
    kind            LowCardinality(String),
    policy_version  LowCardinality(String),
    revision        LowCardinality(String),
    result          LowCardinality(String),
    rules           Array(LowCardinality(String)),
    reason_codes    Array(LowCardinality(String)),
    reason_details  Array(String),
    reason_links    Array(Int16),
    link_hashes     Array(String) CODEC(ZSTD(1)),
    input           String CODEC(ZSTD(3)),
    decided_at      DateTime64(3) DEFAULT now64(3),
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_result result TYPE set(2) GRANULARITY 4
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/policy_decisions_local', '{replica}', decided_at)
PARTITION BY toYYYYMM(ts)
ORDER BY (task_id, ts, trace_id, span_id, decision_id);

CREATE TABLE IF NOT EXISTS ${db}.policy_decisions ON CLUSTER '{cluster}' AS ${db}.policy_decisions_local
ENGINE = Distributed('{cluster}', ${db}, policy_decisions_local, cityHash64(task_id))
