-- Cluster form of 014_task_search_index: each shard indexes its own actions
-- (sharded by task, so a task's rows are whole on its shard) into replicated
-- tables behind Distributed tables sharded the same way. The views read and
-- write _local tables; the backfills read the Distributed actions and write
-- through the Distributed tables, which route each task's rows to its shard.
CREATE TABLE IF NOT EXISTS ${db}.task_order_local ON CLUSTER '{cluster}'
(
    sort_ms      Int64,
    task_id      String,
    trust_domain LowCardinality(String)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/task_order_local', '{replica}')
ORDER BY (sort_ms, task_id, trust_domain);

CREATE TABLE IF NOT EXISTS ${db}.task_order ON CLUSTER '{cluster}' AS ${db}.task_order_local
ENGINE = Distributed('{cluster}', ${db}, task_order_local, cityHash64(task_id));

CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.task_order_mv ON CLUSTER '{cluster}' TO ${db}.task_order_local AS
SELECT sort_ms, task_id, trust_domain
FROM (
    SELECT task_id,
           extract(agent_id, '^spiffe://([^/]+)') AS trust_domain,
           min((toUInt8(NOT (verdict = 'verified' AND root_issued_at > 0)), root_issued_at)) AS o,
           if(o.1 = 0, toUnixTimestamp64Milli(o.2), toUnixTimestamp64Milli(min(ts))) AS sort_ms
    FROM ${db}.actions_local
    GROUP BY task_id, trust_domain
);

CREATE TABLE IF NOT EXISTS ${db}.task_keys_local ON CLUSTER '{cluster}'
(
    kind         LowCardinality(String),
    key          String,
    task_id      String,
    trust_domain LowCardinality(String)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/task_keys_local', '{replica}')
ORDER BY (kind, key, task_id, trust_domain);

CREATE TABLE IF NOT EXISTS ${db}.task_keys ON CLUSTER '{cluster}' AS ${db}.task_keys_local
ENGINE = Distributed('{cluster}', ${db}, task_keys_local, cityHash64(task_id));

CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.task_keys_mv ON CLUSTER '{cluster}' TO ${db}.task_keys_local AS
SELECT DISTINCT k.1 AS kind, k.2 AS key, task_id, extract(agent_id, '^spiffe://([^/]+)') AS trust_domain
FROM ${db}.actions_local
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
