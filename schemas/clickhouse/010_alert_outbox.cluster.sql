-- Cluster form of 010_alert_outbox: replicated tables on every node behind
-- Distributed tables sharded by idempotency key. One dispatcher reads them
-- whole (GLOBAL NOT IN), so the sharding only spreads storage.
CREATE TABLE IF NOT EXISTS ${db}.alert_outbox_local ON CLUSTER '{cluster}'
(
    idem_key        String,
    alert_id        String,
    status          LowCardinality(String),
    transition_at   DateTime64(3),
    seq             UInt32,
    payload         String CODEC(ZSTD(3)),
    enqueued_at     DateTime64(3) DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/alert_outbox_local', '{replica}')
ORDER BY (idem_key)
TTL toDateTime(enqueued_at) + INTERVAL 30 DAY;

CREATE TABLE IF NOT EXISTS ${db}.alert_outbox ON CLUSTER '{cluster}' AS ${db}.alert_outbox_local
ENGINE = Distributed('{cluster}', ${db}, alert_outbox_local, cityHash64(idem_key));

CREATE TABLE IF NOT EXISTS ${db}.alert_deliveries_local ON CLUSTER '{cluster}'
(
    idem_key        String,
    destination     LowCardinality(String),
    outcome         LowCardinality(String),
    attempts        UInt32,
    detail          String,
    recorded_at     DateTime64(3) DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/alert_deliveries_local', '{replica}', recorded_at)
ORDER BY (destination, idem_key)
TTL toDateTime(recorded_at) + INTERVAL 60 DAY;

CREATE TABLE IF NOT EXISTS ${db}.alert_deliveries ON CLUSTER '{cluster}' AS ${db}.alert_deliveries_local
ENGINE = Distributed('{cluster}', ${db}, alert_deliveries_local, cityHash64(idem_key));

CREATE TABLE IF NOT EXISTS ${db}.alert_dispatchers_local ON CLUSTER '{cluster}'
(
    instance        String,
    host            String,
    started_at      DateTime64(3),
    seen_at         DateTime64(3) DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/alert_dispatchers_local', '{replica}', seen_at)
ORDER BY (instance)
TTL toDateTime(seen_at) + INTERVAL 1 DAY;

CREATE TABLE IF NOT EXISTS ${db}.alert_dispatchers ON CLUSTER '{cluster}' AS ${db}.alert_dispatchers_local
ENGINE = Distributed('{cluster}', ${db}, alert_dispatchers_local, cityHash64(instance))
