-- One row per judgement of a span (an agent action): the span, and the verdict
-- on its delegation chain. received_at is the time the processor judged the
-- span (set once per batch, on every path), so it is the row's version: a
-- re-delivered span, or a later re-verdict of it (a revoked key, a changed
-- policy), is a new row with the same sorting key and a greater received_at.
-- ReplacingMergeTree(received_at) keeps the newest in background merges; until
-- then reads keep the same row, so answers do not change with merges: per-task
-- queries with ORDER BY received_at DESC … LIMIT 1 BY (no FINAL on the hot
-- path), whole-table reads (task list, dashboards) with FINAL.
CREATE TABLE IF NOT EXISTS ${db}.actions
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
ENGINE = ReplacingMergeTree(received_at)
PARTITION BY toYYYYMM(ts)
ORDER BY (task_id, ts, trace_id, span_id)
SETTINGS index_granularity = 8192
