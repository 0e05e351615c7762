-- Cluster form of 001_actions: the same columns as a replicated table on
-- every node, behind a Distributed table of the original name sharded by task,
-- so one task's rows and every copy of a span land on one shard, where merges
-- and LIMIT 1 BY fold them.
CREATE TABLE IF NOT EXISTS ${db}.actions_local ON CLUSTER '{cluster}'
(
    task_id         String,
    ts              DateTime64(9) CODEC(Delta, ZSTD(1)),
    end_ts          DateTime64(9) CODEC(Delta, ZSTD(1)),
    trace_id        String CODEC(ZSTD(1)),
    span_id         String CODEC(ZSTD(1)),
    parent_span_id  String CODEC(ZSTD(1)),
    name            LowCardinality(String),
    kind            UInt8,
    status_code     UInt8,
    service_name    LowCardinality(String),
    operation       LowCardinality(String),
    agent_id        LowCardinality(String),
    agent_name      LowCardinality(String),
    tool_name       LowCardinality(String),
    root_human      LowCardinality(String),
    root_issued_at  DateTime64(3),
    purpose         String,
    delegator       LowCardinality(String),
    chain_depth     UInt8,
    chain_path      Array(LowCardinality(String)),
    chain_hash      String CODEC(ZSTD(1)),
    scopes_granted  Array(LowCardinality(String)),
    scopes_used     Array(LowCardinality(String)),
    resource        String CODEC(ZSTD(1)),
    verdict         LowCardinality(String),
    reasons         Array(LowCardinality(String)),
    reason_details  Array(String),
    attributes      Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    received_at     DateTime64(3),
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_agent_id agent_id TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_root_human root_human TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_verdict verdict TYPE set(4) GRANULARITY 4,
    INDEX idx_ts ts TYPE minmax GRANULARITY 1
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/actions_local', '{replica}', received_at)
PARTITION BY toYYYYMM(ts)
ORDER BY (task_id, ts, trace_id, span_id)
SETTINGS index_granularity = 8192;

CREATE TABLE IF NOT EXISTS ${db}.actions ON CLUSTER '{cluster}' AS ${db}.actions_local
ENGINE = Distributed('{cluster}', ${db}, actions_local, cityHash64(task_id));
