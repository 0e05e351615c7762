import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allStatements, DDL_DIR } from '../../src/store/migrate.js';
import { buildCatalog, checksum, loadCatalog, type DdlFile, type Migration } from '../../src/store/migrations/catalog.js';
import { describeProblem, planMigrations, type LedgerRow } from '../../src/store/migrations/plan.js';
import { forDatabase, splitStatements } from '../../src/store/migrations/sql-text.js';
import { assertIdentifier } from '../../src/store/client.js';

const bootstrapFiles: DdlFile[] = ['bootstrap.sql', 'bootstrap.cluster.sql'].map((file) => ({ file, text: readFileSync(join(DDL_DIR, file), 'utf8') }));
const catalogOf = (files: DdlFile[]) => buildCatalog([...bootstrapFiles, ...files]);
const pair = (name: string, single: string, cluster: string): DdlFile[] => [
  { file: `${name}.sql`, text: single },
  { file: `${name}.cluster.sql`, text: cluster },
];

test('the shipped migrations: numbered, in order, each with a single and a cluster form', async () => {
  const { migrations } = await loadCatalog(DDL_DIR);
  assert.deepEqual(migrations.map((m) => m.name), ['001_actions', '002_delegations', '003_quarantine', '004_task_summary', '005_policy_decisions', '006_revocations', '007_action_peer', '008_chain_evidence', '009_alerts', '010_alert_outbox', '012_scope_usage', '013_alert_response', '014_task_search_index', '015_task_alert_keys', '016_task_page']);
  assert.deepEqual(migrations.map((m) => m.version), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16]);
  for (const m of migrations) {
    assert.ok(m.single.length > 0 && m.replicated.length > 0, m.name);
    // An INSERT cannot run ON CLUSTER: it goes through a Distributed table instead.
    const ddl = m.replicated.filter((s) => !s.startsWith('INSERT'));
    assert.ok(ddl.every((s) => s.includes("ON CLUSTER '{cluster}'")), `${m.name}: every cluster DDL statement runs on the cluster`);
    assert.ok(m.single.every((s) => !s.includes('ON CLUSTER')), `${m.name}: no cluster clause in the single form`);
  }
});

test('the cluster layout: replicated local tables behind Distributed tables sharded by task, same columns', async () => {
  const single = (await allStatements('cs', 'single')).map((s) => s.sql);
  const cluster = await allStatements('cs', 'replicated');
  assert.equal(cluster[0]?.sql, "CREATE DATABASE IF NOT EXISTS cs ON CLUSTER '{cluster}'");
  assert.equal(cluster[0]?.migration, null);
  const actions = cluster.filter((s) => s.migration === '001_actions').map((s) => s.sql);
  assert.equal(actions.length, 2);
  assert.match(actions[0]!, /^CREATE TABLE IF NOT EXISTS cs\.actions_local ON CLUSTER '\{cluster\}'/);
  assert.match(actions[0]!, /ENGINE = ReplicatedReplacingMergeTree\('\/clickhouse\/tables\/\{shard\}\/\{database\}\/actions_local', '\{replica\}', received_at\)/);
  assert.match(actions[1]!, /^CREATE TABLE IF NOT EXISTS cs\.actions ON CLUSTER '\{cluster\}' AS cs\.actions_local\nENGINE = Distributed\('\{cluster\}', cs, actions_local, cityHash64\(task_id\)\)$/);
  const delegations = cluster.filter((s) => s.migration === '002_delegations').map((s) => s.sql);
  assert.match(delegations[0]!, /ReplicatedReplacingMergeTree\('\/clickhouse\/tables\/\{shard\}\/\{database\}\/delegations_local', '\{replica\}'\)/);
  // The cluster forms are written out by hand: they must not drift from the single forms.
  const tail = (sql: string) => sql.slice(sql.indexOf('('));
  const cols = (sql: string) => tail(sql).slice(0, tail(sql).indexOf('ENGINE'));
  for (const table of ['actions', 'delegations', 'quarantine', 'task_summary', 'alert_outbox', 'alert_deliveries', 'alert_dispatchers', 'alert_response_audit']) {
    const s = single.find((q) => q.startsWith(`CREATE TABLE IF NOT EXISTS cs.${table}\n`));
    const c = cluster.find((q) => q.sql.startsWith(`CREATE TABLE IF NOT EXISTS cs.${table}_local `));
    assert.ok(s && c, table);
    assert.equal(cols(c.sql), cols(s), `${table}: same columns in both layouts`);
    const after = (sql: string) => sql.slice(sql.indexOf('\n', sql.indexOf('ENGINE')));
    assert.equal(after(c.sql), after(s), `${table}: same ordering, partitioning and TTL in both layouts`);
  }
});

test('statements split on ; outside quotes, comments dropped', () => {
  const text = "-- heading; with a semicolon\nCREATE TABLE IF NOT EXISTS x.t (a String DEFAULT 'x;y -- z', `b;c` UInt8) /* c; */ ENGINE = Memory;\n\n-- only a comment\n;SELECT 'it''s; fine'";
  assert.deepEqual(splitStatements(text), [
    "CREATE TABLE IF NOT EXISTS x.t (a String DEFAULT 'x;y -- z', `b;c` UInt8)   ENGINE = Memory",
    "SELECT 'it''s; fine'",
  ]);
  assert.throws(() => splitStatements("SELECT 'open"), /unterminated ' quote/);
});

test('the database name is substituted only when it is an identifier', () => {
  assert.equal(forDatabase('CREATE TABLE ${db}.t (a UInt8) ENGINE = Memory', 'chainsight_1'), 'CREATE TABLE chainsight_1.t (a UInt8) ENGINE = Memory');
  assert.throws(() => forDatabase('SELECT 1', 'x; DROP TABLE y'), /invalid ClickHouse database name/);
  assert.throws(() => assertIdentifier('1abc'), /invalid/);
});

test('a catalog it cannot trust is refused: a missing form, a reused number, a statement that is not idempotent', () => {
  const t = 'CREATE TABLE IF NOT EXISTS ${db}.t (a UInt8) ENGINE = Memory';
  const tc = "CREATE TABLE IF NOT EXISTS ${db}.t ON CLUSTER '{cluster}' (a UInt8) ENGINE = Memory";
  assert.equal(catalogOf(pair('001_t', t, tc)).migrations.length, 1);
  assert.throws(() => catalogOf([{ file: '001_t.sql', text: t }]), /001_t has no cluster form: add 001_t.cluster.sql/);
  assert.throws(() => catalogOf([{ file: '001_t.cluster.sql', text: tc }]), /cluster form but no 001_t.sql/);
  assert.throws(() => catalogOf([...pair('001_t', t, tc), ...pair('001_u', t, tc)]), /two migrations numbered 1: 001_t and 001_u/);
  assert.throws(() => catalogOf(pair('001_t', 'CREATE TABLE ${db}.t (a UInt8) ENGINE = Memory', tc)), /001_t.sql: statement is not idempotent/);
  assert.throws(() => catalogOf(pair('001_t', t, 'ALTER TABLE ${db}.t ON CLUSTER c ADD COLUMN IF NOT EXISTS b UInt8, DROP COLUMN a')), /not idempotent.*DROP COLUMN a/);
  assert.throws(() => catalogOf(pair('001_t', '-- nothing here\n', tc)), /has no statements/);
  assert.throws(() => buildCatalog(pair('001_t', t, tc)), /bootstrap.sql and bootstrap.cluster.sql/);
  // Commas inside a default or a type do not split an ALTER's actions; MODIFY TTL converges by itself.
  const alter = "ALTER TABLE ${db}.t ADD COLUMN IF NOT EXISTS b Map(String, UInt8) DEFAULT map('a,b', 1), MODIFY TTL toDate('2030-01-01')";
  assert.equal(catalogOf(pair('001_t', alter, tc)).migrations[0]?.single[0], alter);
  // Files that are not migrations are ignored, not guessed at.
  assert.equal(catalogOf([...pair('001_t', t, tc), { file: 'README.md', text: 'x' }, { file: 'notes.sql', text: 'DROP TABLE x' }]).migrations.length, 1);
});

test('a backfill (INSERT … SELECT) is accepted only into a table where a row counted twice changes nothing', () => {
  const agg = (cols: string) => `CREATE TABLE IF NOT EXISTS \${db}.s (k String, ${cols}) ENGINE = AggregatingMergeTree ORDER BY (k)`;
  const fill = 'INSERT INTO ${db}.s SELECT k, 1 FROM ${db}.src GROUP BY k';
  const cluster = (single: string) => `${single.replace('${db}.s (', "${db}.s_local ON CLUSTER '{cluster}' (").replace('AggregatingMergeTree', "ReplicatedAggregatingMergeTree('/p', '{replica}')")};\nCREATE TABLE IF NOT EXISTS \${db}.s ON CLUSTER '{cluster}' AS \${db}.s_local ENGINE = Distributed('{cluster}', \${db}, s_local, cityHash64(k));\n${fill}`;
  const ok = agg('a SimpleAggregateFunction(min, DateTime64(3)), b AggregateFunction(uniqExactIf, UInt64, UInt8), c AggregateFunction(groupUniqArray, String)');
  assert.equal(catalogOf(pair('001_s', `${ok};\n${fill}`, cluster(ok))).migrations[0]?.single.length, 2);
  assert.throws(() => catalogOf(pair('001_s', `${agg('n SimpleAggregateFunction(sum, UInt64)')};\n${fill}`, cluster(ok))), /001_s.sql: INSERT … SELECT into \$\{db\}\.s is not idempotent: column n/);
  assert.throws(() => catalogOf(pair('001_s', `${agg('n AggregateFunction(count)')};\n${fill}`, cluster(ok))), /column n/);
  assert.throws(() => catalogOf(pair('001_s', `${agg('v String')};\n${fill}`, cluster(ok))), /column v is neither in the ORDER BY/);
  assert.throws(() => catalogOf(pair('001_s', fill, cluster(ok))), /AggregatingMergeTree created in the same migration/);
  assert.throws(() => catalogOf(pair('001_s', `CREATE TABLE IF NOT EXISTS \${db}.s (k String) ENGINE = MergeTree ORDER BY k;\n${fill}`, cluster(ok))), /AggregatingMergeTree/);
});

test('the checksum covers statements, not comments, per layout', () => {
  const [a] = catalogOf(pair('001_t', '-- v1\nCREATE TABLE IF NOT EXISTS ${db}.t (a UInt8) ENGINE = Memory', "CREATE TABLE IF NOT EXISTS ${db}.t ON CLUSTER 'c' (a UInt8) ENGINE = Memory")).migrations;
  const [b] = catalogOf(pair('001_t', '-- v2, reworded\nCREATE TABLE IF NOT EXISTS ${db}.t (a UInt8) ENGINE = Memory\n', "CREATE TABLE IF NOT EXISTS ${db}.t ON CLUSTER 'c' (a UInt8) ENGINE = Memory")).migrations;
  const [c] = catalogOf(pair('001_t', 'CREATE TABLE IF NOT EXISTS ${db}.t (a UInt16) ENGINE = Memory', "CREATE TABLE IF NOT EXISTS ${db}.t ON CLUSTER 'c' (a UInt8) ENGINE = Memory")).migrations;
  assert.equal(checksum(a!, 'single'), checksum(b!, 'single'));
  assert.notEqual(checksum(a!, 'single'), checksum(c!, 'single'));
  assert.equal(checksum(a!, 'replicated'), checksum(c!, 'replicated'));
  assert.notEqual(checksum(a!, 'single'), checksum(a!, 'replicated'));
  assert.match(checksum(a!, 'single'), /^[0-9a-f]{64}$/);
});

function migration(version: number, sql = `CREATE TABLE IF NOT EXISTS \${db}.t${version} (a UInt8) ENGINE = Memory`): Migration {
  return { version, name: `00${version}_t${version}`, single: [sql], replicated: [sql.replace('(a', "ON CLUSTER 'c' (a")] };
}
function row(m: Migration, over: Partial<LedgerRow> = {}): LedgerRow {
  return { version: m.version, name: m.name, checksum: checksum(m, 'single'), layout: 'single', applied_at: '2026-11-01T00:00:00.000Z', applied_by: 'host-a pid 1', ...over };
}

test('the plan applies only what the ledger lacks, in version order', () => {
  const ms = [migration(1), migration(2), migration(4)];
  const fresh = planMigrations(ms, [], 'single');
  assert.equal(fresh.kind, 'ready');
  assert.deepEqual(fresh.kind === 'ready' && fresh.pending.map((m) => m.version), [1, 2, 4]);
  const partly = planMigrations(ms, [row(ms[0]!), row(ms[2]!)], 'single');
  assert.deepEqual(partly.kind === 'ready' && partly.pending.map((m) => m.version), [2]);
  assert.deepEqual(partly.kind === 'ready' && partly.applied.map((m) => m.version), [1, 4]);
  const all = planMigrations(ms, ms.map((m) => row(m)), 'single');
  assert.deepEqual(all.kind === 'ready' && all.pending, []);
});

test('the plan refuses an applied migration whose statements changed', () => {
  const applied = migration(1);
  const edited = migration(1, 'CREATE TABLE IF NOT EXISTS ${db}.t1 (a UInt16) ENGINE = Memory');
  const plan = planMigrations([edited, migration(2)], [row(applied)], 'single');
  assert.equal(plan.kind, 'refused');
  if (plan.kind !== 'refused') return;
  assert.deepEqual(plan.problems.map((p) => p.kind), ['changed']);
  assert.match(describeProblem(plan.problems[0]!), /migration 001_t1 changed after it was applied .*must not be edited/);
});

test('the plan refuses a ledger version this binary does not know: a newer schema', () => {
  const known = [migration(1), migration(2)];
  const newer = row(migration(7), { applied_by: 'host-b pid 9' });
  const plan = planMigrations(known, [row(known[0]!), newer], 'single');
  assert.equal(plan.kind, 'refused');
  if (plan.kind !== 'refused') return;
  assert.match(describeProblem(plan.problems[0]!), /newer schema: migration 007_t7 \(version 7, applied .* by host-b pid 9\) is unknown to this version/);
});

test('the plan refuses a migration applied for the other layout', () => {
  const m = migration(1);
  const plan = planMigrations([m], [row(m, { layout: 'replicated', checksum: checksum(m, 'replicated') })], 'single');
  assert.equal(plan.kind, 'refused');
  if (plan.kind === 'refused') assert.match(describeProblem(plan.problems[0]!), /applied for the replicated layout, this process runs single/);
  assert.equal(planMigrations([m], [row(m, { layout: 'replicated', checksum: checksum(m, 'replicated') })], 'replicated').kind, 'ready');
});
