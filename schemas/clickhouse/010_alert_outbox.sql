-- Alert delivery (schemas/alert-delivery.md): the outbox of notifications
-- and what each destination has been given. A notification is one alert
-- transition (firing or resolved) keyed by its idempotency key; every
-- processor may enqueue the same one, the key folds them. A delivery row
-- says a destination accepted (or was given up on for) a key: the
-- dispatcher never sends a key its destination already has a row for.
-- Deliveries outlive notifications, so an expired delivery row never makes
-- a still-kept notification look undelivered.
CREATE TABLE IF NOT EXISTS ${db}.alert_outbox
(
    idem_key        String,
    alert_id        String,
    status          LowCardinality(String),
    transition_at   DateTime64(3),
    seq             UInt32,
    payload         String CODEC(ZSTD(3)),
    enqueued_at     DateTime64(3) DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (idem_key)
TTL toDateTime(enqueued_at) + INTERVAL 30 DAY;

CREATE TABLE IF NOT EXISTS ${db}.alert_deliveries
(
    idem_key        String,
    destination     LowCardinality(String),
    outcome         LowCardinality(String),
    attempts        UInt32,
    detail          String,
    recorded_at     DateTime64(3) DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(recorded_at)
ORDER BY (destination, idem_key)
TTL toDateTime(recorded_at) + INTERVAL 60 DAY;

-- Dispatchers alive: each dispatching process beats here every few seconds.
-- The live one started first delivers; the others stand by (a second
-- dispatcher started by mistake, or one waiting to take over).
CREATE TABLE IF NOT EXISTS ${db}.alert_dispatchers
(
    instance        String,
    host            String,
    started_at      DateTime64(3),
    seen_at         DateTime64(3) DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(seen_at)
ORDER BY (instance)
TTL toDateTime(seen_at) + INTERVAL 1 DAY
