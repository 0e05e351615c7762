-- One row per distinct delegation link (keyed by the hash of its JWS), as
-- seen on verified and failed chains alike: the map of who delegates to whom.
-- first_seen is when a processor judged the link; a later judgement (another
-- processor, a revoked key) is a new row with the same key. The engine has no
-- version column, so merges keep the last inserted; queries keep the row with
-- the greatest first_seen, the same one.
CREATE TABLE IF NOT EXISTS ${db}.delegations
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
ENGINE = ReplacingMergeTree
ORDER BY (task_id, link_hash)
