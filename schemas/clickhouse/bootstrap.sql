-- Applied before any migration, at every start: the database and the ledger
-- of applied migrations. Not numbered, not recorded in the ledger.
--
-- One row per applied migration. Several processors may apply the same
-- migration at once (ClickHouse has no transactions or locks): each records
-- it, and ReplacingMergeTree keyed by version folds their rows into one; the
-- ledger is read with FINAL (it is tiny), so readers see one row per version
-- even before the merge.
CREATE DATABASE IF NOT EXISTS ${db};

CREATE TABLE IF NOT EXISTS ${db}.schema_migrations
(
    version     UInt32,
    name        String,
    checksum    String,
    layout      LowCardinality(String),
    applied_at  DateTime64(3),
    applied_by  String
)
ENGINE = ReplacingMergeTree
ORDER BY version
