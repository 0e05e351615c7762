-- One summary row per (task, trust domain) and insert block, folded by the
-- engine into one per (task, trust domain): what the task list searches,
-- orders and pages through without reading actions. The trust domain is the
-- `spiffe://<td>/` of the action's agent ('' for another kind of ID), so a
-- tenant restriction is a WHERE on the key.
--
-- Every column merges by an idempotent aggregate (min, max, set union), so a
-- row counted twice changes nothing: a re-delivered span, a re-verdict, the
-- backfill below running twice or beside the view. That is what makes the
-- backfill safe to run again and concurrently (schemas/clickhouse/README.md).
--
-- origin: min of (0 for a verified chain with an issue time else 1, the root
-- link's issue time, root human, purpose): its first field is 0 when a chain
-- verified, and then the rest is the earliest verified chain, which names the
-- task's human and when it was requested. A failing chain (a replayed old
-- grant) never outranks a verified one.
-- failed_spans / verified_spans: the spans (a 64-bit hash of trace and span
-- ID) ever judged failed, and ever judged otherwise. Their union is the
-- task's distinct spans. When no span is in both, the failed count is exact;
-- when one is, its newest verdict decides, and first_failed_at and
-- last_verified_at tell whether a verified judgement can be the newer one
-- (a span reinstated): only then is the count taken from actions
-- (src/store/task-summary-query.ts).
-- index_granularity 16: a page's counts read its tasks' span sets (kilobytes
-- per task) by key; with the default granules a page of tasks spread over
-- the key read nearly every set in the table.
CREATE TABLE IF NOT EXISTS ${db}.task_summary
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
ENGINE = AggregatingMergeTree
ORDER BY (task_id, trust_domain)
SETTINGS index_granularity = 16;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.task_summary_mv TO ${db}.task_summary AS
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
GROUP BY task_id, trust_domain;

-- Backfill of what actions held before the view existed. Rows written while
-- it runs are summarised by both, which the idempotent columns absorb.
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
