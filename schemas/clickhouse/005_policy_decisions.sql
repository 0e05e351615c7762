-- The policy decision log: one row per decision of the policy engine on an
-- action (allow or deny), with the policy version and revision, the rules
-- that applied, the reasons, and the input with token hashes (never tokens).
-- The decision id derives from the revision and the span, so a re-delivered
-- span folds into one row; a re-judgement under another policy is a new row.
CREATE TABLE IF NOT EXISTS ${db}.policy_decisions
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
ENGINE = ReplacingMergeTree(decided_at)
PARTITION BY toYYYYMM(ts)
ORDER BY (task_id, ts, trace_id, span_id, decision_id)
