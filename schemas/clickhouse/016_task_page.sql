-- task_page: the cheap columns of the task summary (004) alone, one row per
-- (task, trust domain) and insert block, folded by the engine like the
-- summary and with the same expressions. Step 1 of the task list (find,
-- order and cut a page: src/store/task-summary-query.ts) reads these columns
-- only. In task_summary they sit beside kilobytes of span sets per task, at
-- 16 rows a granule, so a page whose tasks are spread over the key (a human's,
-- an agent's, the failed ones) decompressed a granule per task; here rows are
-- ~100 bytes. Granules of 1,024 rows compressed in blocks of 8 KiB: a page of
-- consecutive tasks decompresses a block or two per column, a scattered page
-- a block per task at most (measured on 10M actions, 20,000 tasks: faster
-- for both than the default 8,192 rows in 64 KiB blocks).
--
-- Every column merges by an idempotent aggregate (min, max), so the backfill
-- may overlap the view's rows and run twice (schemas/clickhouse/README.md).
CREATE TABLE IF NOT EXISTS ${db}.task_page
(
    task_id          String,
    trust_domain     LowCardinality(String),
    first_action     SimpleAggregateFunction(min, DateTime64(9)),
    last_action      SimpleAggregateFunction(max, DateTime64(9)),
    origin           SimpleAggregateFunction(min, Tuple(UInt8, DateTime64(3), String, String)),
    first_failed_at  SimpleAggregateFunction(min, Nullable(DateTime64(3))),
    last_verified_at SimpleAggregateFunction(max, DateTime64(3))
)
ENGINE = AggregatingMergeTree
ORDER BY (task_id, trust_domain)
SETTINGS index_granularity = 1024, min_compress_block_size = 8192;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.task_page_mv TO ${db}.task_page AS
SELECT task_id,
       extract(agent_id, '^spiffe://([^/]+)') AS trust_domain,
       min(ts) AS first_action,
       max(end_ts) AS last_action,
       min((toUInt8(NOT (verdict = 'verified' AND root_issued_at > 0)), root_issued_at, root_human, purpose)) AS origin,
       min(if(verdict = 'failed', toNullable(received_at), NULL)) AS first_failed_at,
       max(if(verdict = 'failed', toDateTime64(0, 3), received_at)) AS last_verified_at
FROM ${db}.actions
GROUP BY task_id, trust_domain;


-- Backfill of what actions held before the view existed, from the summary
-- (004), which has folded every action with the same expressions: it reads
-- a few rows per task instead of aggregating every action again. A row
-- written meanwhile reaches task_page through the view as well, which min
-- and max absorb.
INSERT INTO ${db}.task_page
SELECT task_id, trust_domain, first_action, last_action, origin, first_failed_at, last_verified_at
FROM ${db}.task_summary
