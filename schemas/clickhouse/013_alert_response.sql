-- Automated response audit (schemas/alert-delivery.md): what the response
-- did about an alert, to what, why, when, by whom, and whether it only
-- pretended (dry run). One row per (alert, action, target, mode): a
-- redelivered alert folds into the row it already has.
CREATE TABLE IF NOT EXISTS ${db}.alert_response_audit
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
ENGINE = ReplacingMergeTree(inserted_at)
ORDER BY (alert_id, action, target, mode)
