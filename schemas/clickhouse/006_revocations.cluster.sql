-- Cluster form of 006_revocations: replicated tables on every node behind
-- Distributed tables. Revocations are few and read whole by every processor.
CREATE TABLE IF NOT EXISTS ${db}.revocations_local ON CLUSTER '{cluster}'
(
    revocation_id   String,
    kind            LowCardinality(String),
    target          String,
    reason          String,
    revoked_by      String,
    revoked_at      DateTime64(3),
    expires_at      DateTime64(3),
    inserted_at     DateTime64(3) DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/revocations_local', '{replica}', inserted_at)
ORDER BY (kind, target, revocation_id);

CREATE TABLE IF NOT EXISTS ${db}.revocations ON CLUSTER '{cluster}' AS ${db}.revocations_local
ENGINE = Distributed('{cluster}', ${db}, revocations_local, cityHash64(revocation_id));

CREATE TABLE IF NOT EXISTS ${db}.chain_links_local ON CLUSTER '{cluster}'
(
    chain_hash      String,
    task_id         String,
    link_hashes     Array(String),
    first_seen      DateTime64(3),
    INDEX idx_link_hashes link_hashes TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/chain_links_local', '{replica}')
ORDER BY (chain_hash);

CREATE TABLE IF NOT EXISTS ${db}.chain_links ON CLUSTER '{cluster}' AS ${db}.chain_links_local
ENGINE = Distributed('{cluster}', ${db}, chain_links_local, cityHash64(chain_hash))
