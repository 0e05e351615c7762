-- Cluster form of 007_action_peer.sql: the replicated local tables first, then
-- the Distributed table in front of them, so inserts through it carry peer_id.
ALTER TABLE ${db}.actions_local ON CLUSTER '{cluster}' ADD COLUMN IF NOT EXISTS peer_id String DEFAULT '' AFTER agent_name;

ALTER TABLE ${db}.actions ON CLUSTER '{cluster}' ADD COLUMN IF NOT EXISTS peer_id String DEFAULT '' AFTER agent_name;
