-- Granted against used scope per delegation edge (delegator → delegatee) and
-- scope: what the over-provisioned-scope detector reads (src/detect/scope/),
-- so an evaluation costs one row per edge and scope, not one per action.
--
-- Two views feed it. From delegations: each valid link's scopes, with the
-- first and last time the edge granted each (the link's signed iat). From
-- actions: each verified action's used scopes, on every edge of its chain
-- (an agent's grant is used when it or an agent it delegated to uses it),
-- with the last time (the span's start). Columns merge by min and max, so a
-- row counted twice (a redelivered span, the backfill beside a view) changes
-- nothing. A link or action judged again later (a revoked key) is not taken
-- back: it was granted, or used, at the time.
CREATE TABLE IF NOT EXISTS ${db}.scope_usage
(
    delegatee      LowCardinality(String),
    delegator      LowCardinality(String),
    scope          LowCardinality(String),
    first_granted  SimpleAggregateFunction(min, Nullable(DateTime64(3))),
    last_granted   SimpleAggregateFunction(max, Nullable(DateTime64(3))),
    last_used      SimpleAggregateFunction(max, Nullable(DateTime64(3)))
)
ENGINE = AggregatingMergeTree
ORDER BY (delegatee, delegator, scope);

CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.scope_grants_mv TO ${db}.scope_usage AS
SELECT delegatee, delegator, scope,
       min(toNullable(issued_at)) AS first_granted,
       max(toNullable(issued_at)) AS last_granted,
       CAST(NULL, 'Nullable(DateTime64(3))') AS last_used
FROM ${db}.delegations
ARRAY JOIN scopes AS scope
WHERE valid AND scope != ''
GROUP BY delegatee, delegator, scope;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.scope_usage_mv TO ${db}.scope_usage AS
SELECT edge.2 AS delegatee, edge.1 AS delegator, scope,
       CAST(NULL, 'Nullable(DateTime64(3))') AS first_granted,
       CAST(NULL, 'Nullable(DateTime64(3))') AS last_granted,
       max(toNullable(toDateTime64(ts, 3))) AS last_used
FROM ${db}.actions
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
