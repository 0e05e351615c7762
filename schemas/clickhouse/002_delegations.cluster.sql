-- Cluster form of 002_delegations: replicated tables on every node behind a
-- Distributed table sharded by task, like actions.
CREATE TABLE IF NOT EXISTS ${db}.delegations_local ON CLUSTER '{cluster}'
(
    link_hash       String,
    jti             String,
    task_id         String,
    delegator       LowCardinality(String),
    delegatee       LowCardinality(String),
    delegator_kind  LowCardinality(String),
    scopes          Array(LowCardinality(String)),
    issued_at       DateTime64(3),
    not_before      DateTime64(3),
    expires_at      DateTime64(3),
    parent_hash     String,
    depth           UInt8,
    trust_domain    LowCardinality(String),
    kid             String,
    alg             LowCardinality(String),
    purpose         String,
    valid           Bool,
    first_seen      DateTime64(3),
    INDEX idx_delegator delegator TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_delegatee delegatee TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/delegations_local', '{replica}')
ORDER BY (task_id, link_hash);

CREATE TABLE IF NOT EXISTS ${db}.delegations ON CLUSTER '{cluster}' AS ${db}.delegations_local
ENGINE = Distributed('{cluster}', ${db}, delegations_local, cityHash64(task_id));
