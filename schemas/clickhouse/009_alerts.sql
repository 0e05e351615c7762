-- Alerts (schemas/alerts.md). An alert is not stored as a row: it is the
-- fold of its signals (one row per trigger a detector emitted) and its newest
-- state transition. Both tables are append-only MergeTrees read with explicit
-- deduplication, so every answer is the same before and after merges.

-- One row per trigger. (alert_id, event_key) identifies a trigger: a
-- redelivered or re-evaluated one is inserted again and counts once (reads
-- take its first recording, min(inserted_at)). inserted_at is the store's
-- clock, the same clock as alert_transitions.at: "a trigger later than the
-- resolution" compares the two.
CREATE TABLE IF NOT EXISTS ${db}.alert_signals
(
    alert_id        String,
    tenant          LowCardinality(String),
    kind            LowCardinality(String),
    severity        LowCardinality(String),
    subject         String,
    window_start    DateTime64(3),
    event_key       String,
    observed_at     DateTime64(3),
    task_id         String,
    human           String,
    agents          Array(String),
    chain_hash      String,
    trace_id        String,
    summary         String,
    span_ids        Array(String),
    link_ids        Array(String),
    facts           String CODEC(ZSTD(1)),
    detector        LowCardinality(String),
    inserted_at     DateTime64(3) DEFAULT now64(3)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(inserted_at)
ORDER BY (tenant, alert_id, event_key, inserted_at);

-- Who moved an alert to which state, when and why. Newest `at` wins.
-- transition_id is random for an analyst's action and derived for a
-- detector's self-resolution, so two processors resolving the same episode
-- write one transition as far as reads are concerned (first copy wins).
CREATE TABLE IF NOT EXISTS ${db}.alert_transitions
(
    alert_id        String,
    tenant          LowCardinality(String),
    transition_id   String,
    state           LowCardinality(String),
    actor           String,
    note            String,
    at              DateTime64(3) DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (tenant, alert_id, at, transition_id)
