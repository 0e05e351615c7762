-- Cluster form of 009_alerts: replicated local tables behind Distributed
-- tables sharded by alert id, so every signal and transition of one alert
-- lives on one shard and an alert folds there.
CREATE TABLE IF NOT EXISTS ${db}.alert_signals_local ON CLUSTER '{cluster}'
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
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/alert_signals_local', '{replica}')
PARTITION BY toYYYYMM(inserted_at)
ORDER BY (tenant, alert_id, event_key, inserted_at);

CREATE TABLE IF NOT EXISTS ${db}.alert_signals ON CLUSTER '{cluster}' AS ${db}.alert_signals_local
ENGINE = Distributed('{cluster}', ${db}, alert_signals_local, cityHash64(alert_id));

CREATE TABLE IF NOT EXISTS ${db}.alert_transitions_local ON CLUSTER '{cluster}'
(
    alert_id        String,
    tenant          LowCardinality(String),
    transition_id   String,
    state           LowCardinality(String),
    actor           String,
    note            String,
    at              DateTime64(3) DEFAULT now64(3)
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/alert_transitions_local', '{replica}')
ORDER BY (tenant, alert_id, at, transition_id);

CREATE TABLE IF NOT EXISTS ${db}.alert_transitions ON CLUSTER '{cluster}' AS ${db}.alert_transitions_local
ENGINE = Distributed('{cluster}', ${db}, alert_transitions_local, cityHash64(alert_id))
