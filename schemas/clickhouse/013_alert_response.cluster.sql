-- Cluster form of 013_alert_response: a replicated table on every node
-- behind a Distributed table sharded by alert id.
CREATE TABLE IF NOT EXISTS ${db}.alert_response_audit_local ON CLUSTER '{cluster}'
(
    alert_id        String,
    action          LowCardinality(String),
    target          String,
    mode            LowCardinality(String),
    outcome         LowCardinality(String),
    reason          String,
    revocation_id   String,
    actor           LowCardinality(String),
    at              DateTime64(3),
    inserted_at     DateTime64(3) DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/alert_response_audit_local', '{replica}', inserted_at)
ORDER BY (alert_id, action, target, mode);

CREATE TABLE IF NOT EXISTS ${db}.alert_response_audit ON CLUSTER '{cluster}' AS ${db}.alert_response_audit_local
ENGINE = Distributed('{cluster}', ${db}, alert_response_audit_local, cityHash64(alert_id))
