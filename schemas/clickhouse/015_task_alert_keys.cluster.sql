-- Cluster form of 015_task_alert_keys.sql. The view reads the local signal
-- rows of each shard and writes through the Distributed task_keys, so the
-- rows land on the shard their task_id hashes to, beside the other keys.
CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.task_alert_keys_mv ON CLUSTER '{cluster}' TO ${db}.task_keys AS
-- The signal's kind becomes the key in an inner query: an outer alias `kind`
-- would shadow the column.
SELECT DISTINCT 'alert' AS kind, key, task_id, trust_domain
FROM (SELECT kind AS key, task_id, tenant AS trust_domain FROM ${db}.alert_signals_local WHERE task_id != '')
