-- Cluster form of the bootstrap. The ledger is replicated to every node of
-- the cluster (its Keeper path has no {shard}), so a processor connected to
-- any node reads the whole ledger. Its replica name joins {shard} and
-- {replica}, unique in the cluster even where replica names repeat per shard.
CREATE DATABASE IF NOT EXISTS ${db} ON CLUSTER '{cluster}';

CREATE TABLE IF NOT EXISTS ${db}.schema_migrations ON CLUSTER '{cluster}'
(
    version     UInt32,
    name        String,
    checksum    String,
    layout      LowCardinality(String),
    applied_at  DateTime64(3),
    applied_by  String
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{database}/schema_migrations', '{shard}_{replica}')
ORDER BY version
