-- Revocations (schemas/delegation-token.md §7a): a link (by hash or jti), an
-- agent or human (principal) or a signing key (kid), with why, who and when.
-- Every processor polls this table by inserted_at (its high-water mark) and
-- fails spans that start at or after revoked_at under a covered chain.
-- expires_at: when the revocation stops mattering (the latest exp of the
-- links it covers, where known); 1970-01-01 = never.
CREATE TABLE IF NOT EXISTS ${db}.revocations
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
ENGINE = ReplacingMergeTree(inserted_at)
ORDER BY (kind, target, revocation_id);

-- One row per distinct chain: its cache key (actions.chain_hash) and the
-- hashes of its links, root first. What "every chain containing this link"
-- is answered from (blast radius); a chain seen again folds into its row.
CREATE TABLE IF NOT EXISTS ${db}.chain_links
(
    chain_hash      String,
    task_id         String,
    link_hashes     Array(String),
    first_seen      DateTime64(3),
    INDEX idx_link_hashes link_hashes TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = ReplacingMergeTree
ORDER BY (chain_hash)
