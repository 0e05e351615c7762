-- Cluster form of 012_scope_usage: each shard folds the delegations and
-- actions it holds into a replicated aggregating table behind a Distributed
-- table sharded by delegatee. An edge's rows may sit on several shards (its
-- tasks are spread); reads aggregate across them with GROUP BY. The views
-- read and write _local tables; the backfills read the Distributed tables and
-- write through the Distributed scope_usage.
CREATE TABLE IF NOT EXISTS ${db}.scope_usage_local ON CLUSTER '{cluster}'
(
    delegatee      LowCardinality(String),
    delegator      LowCardinality(String),
    scope          LowCardinality(String),
    first_granted  SimpleAggregateFunction(min, Nullable(DateTime64(3))),
    last_granted   SimpleAggregateFunction(max, Nullable(DateTime64(3))),
    last_used      SimpleAggregateFunction(max, Nullable(DateTime64(3)))
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/scope_usage_local', '{replica}')
ORDER BY (delegatee, delegator, scope);

CREATE TABLE IF NOT EXISTS ${db}.scope_usage ON CLUSTER '{cluster}' AS ${db}.scope_usage_local
ENGINE = Distributed('{cluster}', ${db}, scope_usage_local, cityHash64(delegatee));

CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.scope_grants_mv ON CLUSTER '{cluster}' TO ${db}.scope_usage_local AS
SELECT delegatee, delegator, scope,
       min(toNullable(issued_at)) AS first_granted,
       max(toNullable(issued_at)) AS last_granted,
       CAST(NULL, 'Nullable(DateTime64(3))') AS last_used
FROM ${db}.delegations_local
ARRAY JOIN scopes AS scope
WHERE valid AND scope != ''
GROUP BY delegatee, delegator, scope;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.scope_usage_mv ON CLUSTER '{cluster}' TO ${db}.scope_usage_local AS
SELECT edge.2 AS delegatee, edge.1 AS delegator, scope,
       CAST(NULL, 'Nullable(DateTime64(3))') AS first_granted,
       CAST(NULL, 'Nullable(DateTime64(3))') AS last_granted,
       max(toNullable(toDateTime64(ts, 3))) AS last_used
FROM ${db}.actions_local
ARRAY JOIN scopes_used AS scope
ARRAY JOIN arrayZip(arrayPopBack(chain_path), arrayPopFront(chain_path)) AS edge
WHERE verdict = 'verified' AND scope != ''
GROUP BY delegatee, delegator, scope;

-- Backfills of what the tables held before the views existed.
INSERT INTO ${db}.scope_usage
SELECT delegatee, delegator, scope,
       min(toNullable(issued_at)) AS first_granted,
       max(toNullable(issued_at)) AS last_granted,
       CAST(NULL, 'Nullable(DateTime64(3))') AS last_used
FROM ${db}.delegations
ARRAY JOIN scopes AS scope
WHERE valid AND scope != ''
GROUP BY delegatee, delegator, scope;

INSERT INTO ${db}.scope_usage
SELECT edge.2 AS delegatee, edge.1 AS delegator, scope,
       CAST(NULL, 'Nullable(DateTime64(3))') AS first_granted,
       CAST(NULL, 'Nullable(DateTime64(3))') AS last_granted,
       max(toNullable(toDateTime64(ts, 3))) AS last_used
FROM ${db}.actions
ARRAY JOIN scopes_used AS scope
ARRAY JOIN arrayZip(arrayPopBack(chain_path), arrayPopFront(chain_path)) AS edge
WHERE verdict = 'verified' AND scope != ''
GROUP BY delegatee, delegator, scope
