-- Cluster form of 016_task_page.sql: each shard keeps the page columns of its
-- own tasks (actions are sharded by task), in a replicated table behind a
-- Distributed table sharded the same way. The view reads and writes _local
-- tables; the backfill reads the Distributed actions and writes through the
-- Distributed table, which routes each task's rows to its shard.
CREATE TABLE IF NOT EXISTS ${db}.task_page_local ON CLUSTER '{cluster}'
(
    task_id          String,
    trust_domain     LowCardinality(String),
    first_action     SimpleAggregateFunction(min, DateTime64(9)),
    last_action      SimpleAggregateFunction(max, DateTime64(9)),
    origin           SimpleAggregateFunction(min, Tuple(UInt8, DateTime64(3), String, String)),
    first_failed_at  SimpleAggregateFunction(min, Nullable(DateTime64(3))),
    last_verified_at SimpleAggregateFunction(max, DateTime64(3))
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/task_page_local', '{replica}')
ORDER BY (task_id, trust_domain)
SETTINGS index_granularity = 1024, min_compress_block_size = 8192;

CREATE TABLE IF NOT EXISTS ${db}.task_page ON CLUSTER '{cluster}' AS ${db}.task_page_local
ENGINE = Distributed('{cluster}', ${db}, task_page_local, cityHash64(task_id));

CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.task_page_mv ON CLUSTER '{cluster}' TO ${db}.task_page_local AS
SELECT task_id,
       extract(agent_id, '^spiffe://([^/]+)') AS trust_domain,
       min(ts) AS first_action,
       max(end_ts) AS last_action,
       min((toUInt8(NOT (verdict = 'verified' AND root_issued_at > 0)), root_issued_at, root_human, purpose)) AS origin,
       min(if(verdict = 'failed', toNullable(received_at), NULL)) AS first_failed_at,
       max(if(verdict = 'failed', toDateTime64(0, 3), received_at)) AS last_verified_at
FROM ${db}.actions_local
GROUP BY task_id, trust_domain;

-- Backfill of what actions held before the view existed, from the summary
-- (004), which has folded every action with the same expressions: it reads
-- a few rows per task instead of aggregating every action again. A row
-- written meanwhile reaches task_page through the view as well, which min
-- and max absorb.
INSERT INTO ${db}.task_page
SELECT task_id, trust_domain, first_action, last_action, origin, first_failed_at, last_verified_at
FROM ${db}.task_summary
