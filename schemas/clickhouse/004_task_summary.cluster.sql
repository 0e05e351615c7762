-- Cluster form of 004_task_summary: each shard summarises its own actions
-- (actions are sharded by task, so a task's summary is whole on its shard),
-- into a replicated aggregating table behind a Distributed table sharded the
-- same way. The view reads and writes _local tables; the backfill reads the
-- Distributed actions and writes through the Distributed summary, which
-- routes each task's row to its shard.
CREATE TABLE IF NOT EXISTS ${db}.task_summary_local ON CLUSTER '{cluster}'
(
    task_id          String,
    trust_domain     LowCardinality(String),
    first_action     SimpleAggregateFunction(min, DateTime64(9)),
    last_action      SimpleAggregateFunction(max, DateTime64(9)),
    origin           SimpleAggregateFunction(min, Tuple(UInt8, DateTime64(3), String, String)),
    humans           AggregateFunction(groupUniqArrayIf, String, UInt8),
    agent_ids        AggregateFunction(groupUniqArray, String),
    failed_spans     AggregateFunction(uniqExactIf, UInt64, UInt8),
    verified_spans   AggregateFunction(uniqExactIf, UInt64, UInt8),
    first_failed_at  SimpleAggregateFunction(min, Nullable(DateTime64(3))),
    last_verified_at SimpleAggregateFunction(max, DateTime64(3))
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/task_summary_local', '{replica}')
ORDER BY (task_id, trust_domain)
SETTINGS index_granularity = 16;

CREATE TABLE IF NOT EXISTS ${db}.task_summary ON CLUSTER '{cluster}' AS ${db}.task_summary_local
ENGINE = Distributed('{cluster}', ${db}, task_summary_local, cityHash64(task_id));

CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.task_summary_mv ON CLUSTER '{cluster}' TO ${db}.task_summary_local AS
SELECT task_id,
       extract(agent_id, '^spiffe://([^/]+)') AS trust_domain,
       min(ts) AS first_action,
       max(end_ts) AS last_action,
       min((toUInt8(NOT (verdict = 'verified' AND root_issued_at > 0)), root_issued_at, root_human, purpose)) AS origin,
       groupUniqArrayIfState(root_human, root_human != '') AS humans,
       groupUniqArrayState(agent_id) AS agent_ids,
       uniqExactIfState(sipHash64(trace_id, span_id), verdict = 'failed') AS failed_spans,
       uniqExactIfState(sipHash64(trace_id, span_id), verdict != 'failed') AS verified_spans,
       min(if(verdict = 'failed', toNullable(received_at), NULL)) AS first_failed_at,
       max(if(verdict = 'failed', toDateTime64(0, 3), received_at)) AS last_verified_at
FROM ${db}.actions_local
GROUP BY task_id, trust_domain;

INSERT INTO ${db}.task_summary
SELECT task_id,
       extract(agent_id, '^spiffe://([^/]+)') AS trust_domain,
       min(ts) AS first_action,
       max(end_ts) AS last_action,
       min((toUInt8(NOT (verdict = 'verified' AND root_issued_at > 0)), root_issued_at, root_human, purpose)) AS origin,
       groupUniqArrayIfState(root_human, root_human != '') AS humans,
       groupUniqArrayState(agent_id) AS agent_ids,
       uniqExactIfState(sipHash64(trace_id, span_id), verdict = 'failed') AS failed_spans,
       uniqExactIfState(sipHash64(trace_id, span_id), verdict != 'failed') AS verified_spans,
       min(if(verdict = 'failed', toNullable(received_at), NULL)) AS first_failed_at,
       max(if(verdict = 'failed', toDateTime64(0, 3), received_at)) AS last_verified_at
FROM ${db}.actions
GROUP BY task_id, trust_domain
