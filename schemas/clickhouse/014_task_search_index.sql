-- Two small indexes beside the task summary (004), so that a page of the
-- task list reads what the page needs, not every task:
--
-- task_order: one row per (task, trust domain) and insert block, ordered by
-- the list's sort key. sort_ms is what the summary's merged row sorts by
-- (the earliest verified chain's issue time, else the first action), computed
-- over the block alone. The block holding a task's earliest verified chain
-- (or, without one, its first action) computes exactly the task's sort key,
-- so every task has a row at its true position; other blocks' rows are stale
-- and the reader drops them once it has the task's merged summary
-- (src/store/task-search-index.ts). A page walks this table from the cursor
-- down, in order, and stops: its cost follows the page size, not the tasks.
--
-- task_keys: which tasks name a root human, an agent, or have a span ever
-- judged failed, keyed by that value: a filter becomes a primary-key range,
-- whose cost follows the number of tasks matching it.
--
-- Both are sets (every column is in the key, so the engine folds equal rows
-- into one): a row written twice,
-- by a re-delivery, the view and the backfill together, or the backfill
-- running again, is one row, so the backfill is safe to repeat.
CREATE TABLE IF NOT EXISTS ${db}.task_order
(
    sort_ms      Int64,
    task_id      String,
    trust_domain LowCardinality(String)
)
ENGINE = AggregatingMergeTree
ORDER BY (sort_ms, task_id, trust_domain);

CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.task_order_mv TO ${db}.task_order AS
SELECT sort_ms, task_id, trust_domain
FROM (
    SELECT task_id,
           extract(agent_id, '^spiffe://([^/]+)') AS trust_domain,
           min((toUInt8(NOT (verdict = 'verified' AND root_issued_at > 0)), root_issued_at)) AS o,
           if(o.1 = 0, toUnixTimestamp64Milli(o.2), toUnixTimestamp64Milli(min(ts))) AS sort_ms
    FROM ${db}.actions
    GROUP BY task_id, trust_domain
);

CREATE TABLE IF NOT EXISTS ${db}.task_keys
(
    kind         LowCardinality(String),
    key          String,
    task_id      String,
    trust_domain LowCardinality(String)
)
ENGINE = AggregatingMergeTree
ORDER BY (kind, key, task_id, trust_domain);

-- kind 'human': a root human of any of the task's chains (the summary's
-- humans); 'agent': an agent that acted; 'failed' (key ''): a span judged
-- failed, at least once (the summary's first_failed_at).
CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.task_keys_mv TO ${db}.task_keys AS
SELECT DISTINCT k.1 AS kind, k.2 AS key, task_id, extract(agent_id, '^spiffe://([^/]+)') AS trust_domain
FROM ${db}.actions
ARRAY JOIN arrayFilter(x -> (x.1 = 'human' AND x.2 != '') OR x.1 = 'agent' OR (x.1 = 'failed' AND verdict = 'failed'),
                       [('human', root_human), ('agent', agent_id), ('failed', '')]) AS k;

-- Backfill of what actions held before the views existed.
INSERT INTO ${db}.task_order
SELECT sort_ms, task_id, trust_domain
FROM (
    SELECT task_id,
           extract(agent_id, '^spiffe://([^/]+)') AS trust_domain,
           min((toUInt8(NOT (verdict = 'verified' AND root_issued_at > 0)), root_issued_at)) AS o,
           if(o.1 = 0, toUnixTimestamp64Milli(o.2), toUnixTimestamp64Milli(min(ts))) AS sort_ms
    FROM ${db}.actions
    GROUP BY task_id, trust_domain
);

INSERT INTO ${db}.task_keys
SELECT DISTINCT k.1 AS kind, k.2 AS key, task_id, extract(agent_id, '^spiffe://([^/]+)') AS trust_domain
FROM ${db}.actions
ARRAY JOIN arrayFilter(x -> (x.1 = 'human' AND x.2 != '') OR x.1 = 'agent' OR (x.1 = 'failed' AND verdict = 'failed'),
                       [('human', root_human), ('agent', agent_id), ('failed', '')]) AS k
