-- The task list's alert filter: which tasks an alert was raised on, as
-- task_keys rows (014) of kind 'alert', keyed by the alert's kind. A filter
-- "tasks with an alert" (any kind) or "with an alert of kind K" becomes a
-- primary-key range of task_keys, like the human, agent and failed filters.
-- The tenant is the alert's trust domain, so an analyst's filter matches
-- only alerts of their tenants. Alerts about no task in particular (scope
-- findings, resource windows) carry task_id '' and are left out.
-- No backfill: alert_signals (009) ships in the same release, and task_keys is
-- not created here, so the loader would refuse an INSERT into it.
CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.task_alert_keys_mv TO ${db}.task_keys AS
-- The signal's kind becomes the key in an inner query: an outer alias `kind`
-- would shadow the column.
SELECT DISTINCT 'alert' AS kind, key, task_id, trust_domain
FROM (SELECT kind AS key, task_id, tenant AS trust_domain FROM ${db}.alert_signals WHERE task_id != '')
