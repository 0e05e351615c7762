/**
 * The migration ledger against the real engine (chdb, or the server named by
 * CLICKHOUSE_URL): what start-up applies, what it refuses, several appliers at
 * once, and every statement of both layouts checked by ClickHouse's parser.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import { openClient } from '../../src/store/client.js';
import { allStatements, DDL_DIR, migrate } from '../../src/store/migrate.js';
import { buildCatalog, loadCatalog, type Catalog, type DdlFile } from '../../src/store/migrations/catalog.js';
import { readLedger } from '../../src/store/migrations/ledger.js';
import { SchemaMismatchError } from '../../src/store/migrations/plan.js';
import { splitStatements } from '../../src/store/migrations/sql-text.js';
import { testStoreConfig } from '../support/store.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const opened: { client: ClickHouseClient; db: string }[] = [];

/** A fresh, empty database name and a client for it (several clients may share one chdb path in a process). */
function freshDatabase(clients = 1): { db: string; clients: ClickHouseClient[] } {
  const config = testStoreConfig();
  const list = Array.from({ length: clients }, () => openClient(config));
  for (const client of list) opened.push({ client, db: config.database });
  return { db: config.database, clients: list };
}

after(async () => {
  const dbs = new Set(opened.map((o) => o.db));
  for (const db of dbs) await opened[0]!.client.command({ query: `DROP DATABASE IF EXISTS ${db}` }).catch(() => undefined);
  await Promise.allSettled(opened.map((o) => o.client.close()));
});

const bootstrapFiles: DdlFile[] = ['bootstrap.sql', 'bootstrap.cluster.sql'].map((file) => ({ file, text: readFileSync(join(DDL_DIR, file), 'utf8') }));
function catalogOf(migrations: Record<string, [single: string, cluster: string]>): Catalog {
  const files: DdlFile[] = [...bootstrapFiles];
  for (const [name, [single, cluster]] of Object.entries(migrations)) files.push({ file: `${name}.sql`, text: single }, { file: `${name}.cluster.sql`, text: cluster });
  return buildCatalog(files);
}

async function tables(client: ClickHouseClient, db: string): Promise<string[]> {
  const rs = await client.query({ query: 'SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name', query_params: { db }, format: 'JSONEachRow' });
  return (await rs.json<{ name: string }>()).map((r) => r.name);
}

/** Columns and engines of a database, minus its name: to compare two databases' schemas. */
async function schemaOf(client: ClickHouseClient, db: string): Promise<string[]> {
  const rs = await client.query({
    query: `SELECT concat(table, '.', name, ' ', type, ' ', default_expression) AS c FROM system.columns WHERE database = {db:String}
            UNION ALL SELECT concat(name, ' ', replaceAll(engine_full, {db:String}, '<db>')) FROM system.tables WHERE database = {db:String}`,
    query_params: { db },
    format: 'JSONEachRow',
  });
  return (await rs.json<{ c: string }>()).map((r) => r.c).sort();
}

test('a fresh database gets every migration, recorded once; the next start applies nothing', async () => {
  const { db, clients: [client] } = freshDatabase();
  const shipped = (await loadCatalog(DDL_DIR)).migrations.map((m) => m.name);
  const first = await migrate(client!, db);
  assert.deepEqual(first, { applied: shipped, alreadyApplied: [] });
  assert.deepEqual(await tables(client!, db), ['actions', 'alert_deliveries', 'alert_dispatchers', 'alert_outbox', 'alert_response_audit', 'alert_signals', 'alert_transitions', 'chain_links', 'delegations', 'policy_decisions', 'quarantine', 'revocations', 'schema_migrations', 'scope_grants_mv', 'scope_usage', 'scope_usage_mv', 'task_alert_keys_mv', 'task_keys', 'task_keys_mv', 'task_order', 'task_order_mv', 'task_page', 'task_page_mv', 'task_summary', 'task_summary_mv']);
  const ledger = await readLedger(client!, db);
  assert.deepEqual(ledger.map((r) => r.name), shipped);
  assert.ok(ledger.every((r) => r.layout === 'single' && /^[0-9a-f]{64}$/.test(r.checksum) && r.applied_by.includes(`pid ${process.pid}`)));
  const second = await migrate(client!, db);
  assert.deepEqual(second, { applied: [], alreadyApplied: shipped });
  assert.equal((await readLedger(client!, db)).length, shipped.length);
});

test('a database from before the ledger: its tables are kept and the migrations recorded', async () => {
  const { db, clients: [client] } = freshDatabase();
  // What start-up did before there was a ledger: the same CREATE … IF NOT EXISTS statements, nothing recorded.
  for (const s of await allStatements(db)) if (!s.sql.includes('schema_migrations')) await client!.command({ query: s.sql });
  await client!.insert({ table: `${db}.delegations`, values: [{ link_hash: 'kept', task_id: 't' }], format: 'JSONEachRow' });
  const report = await migrate(client!, db);
  assert.equal(report.applied.length, (await loadCatalog(DDL_DIR)).migrations.length);
  const rs = await client!.query({ query: `SELECT link_hash FROM ${db}.delegations`, format: 'JSONEachRow' });
  assert.deepEqual(await rs.json(), [{ link_hash: 'kept' }]);
});

test('several processes starting at once on one empty database converge: one ledger row per version, the same schema', async (t) => {
  const APPLIERS = 4;
  const { db, clients } = freshDatabase(APPLIERS);
  const reports = await Promise.all(clients.map((c) => migrate(c, db)));
  const shipped = (await loadCatalog(DDL_DIR)).migrations.map((m) => m.name);
  // Each migration ran at least once; which applier ran it is a race, and running it twice is harmless.
  for (const name of shipped) assert.ok(reports.some((r) => r.applied.includes(name)), name);
  const ledger = await readLedger(clients[0]!, db);
  assert.deepEqual(ledger.map((r) => r.name), shipped, 'one ledger row per version');
  const raw = await clients[0]!.query({ query: `SELECT count() AS n FROM ${db}.schema_migrations`, format: 'JSONEachRow' });
  const rawRows = Number((await raw.json<{ n: string }>())[0]!.n);
  // Merging folds the appliers' duplicate rows for good, not only in FINAL reads.
  await clients[0]!.command({ query: `OPTIMIZE TABLE ${db}.schema_migrations FINAL` });
  const merged = await clients[0]!.query({ query: `SELECT version, count() AS n FROM ${db}.schema_migrations GROUP BY version ORDER BY version`, format: 'JSONEachRow' });
  assert.ok((await merged.json<{ n: string }>()).every((r) => Number(r.n) === 1));
  // The same schema as one applier alone builds.
  const { db: alone, clients: [solo] } = freshDatabase();
  await migrate(solo!, alone);
  assert.deepEqual(await schemaOf(clients[0]!, db), await schemaOf(solo!, alone));
  // And every applier, started again, finds nothing to do.
  for (const c of clients) assert.deepEqual((await migrate(c, db)).applied, []);
  t.diagnostic(`ledger rows before merging: ${rawRows} for ${shipped.length} versions`);
});

test('an applied migration whose file changed stops start-up before anything runs', async () => {
  const { db, clients: [client] } = freshDatabase();
  const v1 = 'CREATE TABLE IF NOT EXISTS ${db}.t (a UInt8) ENGINE = MergeTree ORDER BY a';
  const v1c = "CREATE TABLE IF NOT EXISTS ${db}.t ON CLUSTER '{cluster}' (a UInt8) ENGINE = MergeTree ORDER BY a";
  await migrate(client!, db, 'single', catalogOf({ '001_t': [v1, v1c] }));
  const edited = catalogOf({
    '001_t': [v1.replace('UInt8', 'UInt16'), v1c],
    '002_u': ['CREATE TABLE IF NOT EXISTS ${db}.u (a UInt8) ENGINE = Memory', "CREATE TABLE IF NOT EXISTS ${db}.u ON CLUSTER '{cluster}' (a UInt8) ENGINE = Memory"],
  });
  await assert.rejects(migrate(client!, db, 'single', edited), (err: unknown) => {
    assert.ok(err instanceof SchemaMismatchError);
    assert.match(err.message, new RegExp(`refusing to start on database ${db}: migration 001_t changed after it was applied`));
    return true;
  });
  assert.ok(!(await tables(client!, db)).includes('u'), 'the pending migration did not run');
  // A comment edit is not a change.
  const recommented = catalogOf({ '001_t': ['-- the t table\n' + v1, v1c] });
  assert.deepEqual(await migrate(client!, db, 'single', recommented), { applied: [], alreadyApplied: ['001_t'] });
});

test('a ledger version this binary does not know stops start-up: the schema is newer', async () => {
  const { db, clients: [client] } = freshDatabase();
  await migrate(client!, db);
  await client!.insert({
    table: `${db}.schema_migrations`,
    format: 'JSONEachRow',
    values: [{ version: 900, name: '900_from_the_future', checksum: 'ab'.repeat(32), layout: 'single', applied_at: Date.now(), applied_by: 'newer-host pid 7' }],
  });
  await assert.rejects(migrate(client!, db), /the database has a newer schema: migration 900_from_the_future \(version 900, applied .* by newer-host pid 7\) is unknown to this version of chainsight/);
});

test('a ledger table of another shape, as another tool would make, stops start-up, naming the table', async () => {
  const { db, clients: [client] } = freshDatabase();
  await client!.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  await client!.command({ query: `CREATE TABLE ${db}.schema_migrations (version Int64, dirty UInt8) ENGINE = MergeTree ORDER BY version` });
  await assert.rejects(migrate(client!, db), new RegExp(`cannot read the migration ledger ${db}\\.schema_migrations: `));
  assert.deepEqual(await tables(client!, db), ['schema_migrations'], 'nothing else ran');
});

test('ALTER and materialized-view migrations apply on top of earlier ones, once', async () => {
  const { db, clients: [client] } = freshDatabase();
  const steps: Record<string, [string, string]> = {
    '001_events': [
      'CREATE TABLE IF NOT EXISTS ${db}.events (id String, n UInt32) ENGINE = ReplacingMergeTree ORDER BY id',
      "CREATE TABLE IF NOT EXISTS ${db}.events_local ON CLUSTER '{cluster}' (id String, n UInt32) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/events_local', '{replica}') ORDER BY id;\n" +
        "CREATE TABLE IF NOT EXISTS ${db}.events ON CLUSTER '{cluster}' AS ${db}.events_local ENGINE = Distributed('{cluster}', ${db}, events_local, cityHash64(id))",
    ],
  };
  assert.deepEqual((await migrate(client!, db, 'single', catalogOf(steps))).applied, ['001_events']);
  await client!.insert({ table: `${db}.events`, values: [{ id: 'before', n: 1 }], format: 'JSONEachRow' });
  steps['002_events_kind'] = [
    "ALTER TABLE ${db}.events ADD COLUMN IF NOT EXISTS kind LowCardinality(String) DEFAULT 'x'",
    // On a cluster both the local tables and the Distributed table in front of them get the column.
    "ALTER TABLE ${db}.events_local ON CLUSTER '{cluster}' ADD COLUMN IF NOT EXISTS kind LowCardinality(String) DEFAULT 'x';\n" +
      "ALTER TABLE ${db}.events ON CLUSTER '{cluster}' ADD COLUMN IF NOT EXISTS kind LowCardinality(String) DEFAULT 'x'",
  ];
  steps['003_events_per_kind'] = [
    'CREATE TABLE IF NOT EXISTS ${db}.per_kind (kind LowCardinality(String), n UInt64) ENGINE = SummingMergeTree ORDER BY kind;\n' +
      'CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.per_kind_mv TO ${db}.per_kind AS SELECT kind, count() AS n FROM ${db}.events GROUP BY kind',
    "CREATE TABLE IF NOT EXISTS ${db}.per_kind_local ON CLUSTER '{cluster}' (kind LowCardinality(String), n UInt64) ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/{database}/per_kind_local', '{replica}') ORDER BY kind;\n" +
      "CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.per_kind_mv ON CLUSTER '{cluster}' TO ${db}.per_kind_local AS SELECT kind, count() AS n FROM ${db}.events_local GROUP BY kind;\n" +
      "CREATE TABLE IF NOT EXISTS ${db}.per_kind ON CLUSTER '{cluster}' AS ${db}.per_kind_local ENGINE = Distributed('{cluster}', ${db}, per_kind_local, cityHash64(kind))",
  ];
  const report = await migrate(client!, db, 'single', catalogOf(steps));
  assert.deepEqual(report, { applied: ['002_events_kind', '003_events_per_kind'], alreadyApplied: ['001_events'] });
  await client!.insert({ table: `${db}.events`, values: [{ id: 'after', n: 2, kind: 'y' }], format: 'JSONEachRow' });
  const rs = await client!.query({ query: `SELECT id, kind FROM ${db}.events ORDER BY id`, format: 'JSONEachRow' });
  assert.deepEqual(await rs.json(), [{ id: 'after', kind: 'y' }, { id: 'before', kind: 'x' }]);
  const mv = await client!.query({ query: `SELECT kind, sum(n) AS n FROM ${db}.per_kind GROUP BY kind`, format: 'JSONEachRow' });
  assert.deepEqual(await mv.json(), [{ kind: 'y', n: '1' }]);
  // The cluster forms of the same steps are valid ClickHouse.
  for (const s of await allStatements(db, 'replicated', catalogOf(steps))) await assertParses(client!, s.sql);
});

/** ClickHouse's own parser, without executing: ON CLUSTER and Keeper paths cannot run on chdb, but must parse. */
async function assertParses(client: ClickHouseClient, sql: string): Promise<void> {
  const rs = await client.query({ query: 'SELECT formatQuery({sql:String}) AS f', query_params: { sql }, format: 'JSONEachRow' });
  const [row] = await rs.json<{ f: string }>();
  assert.ok(row && row.f.length > 0, sql);
}

test('every statement of both layouts parses, as printed by `chainsight ddl`', async () => {
  const { clients: [client] } = freshDatabase();
  for (const layout of ['single', 'replicated'] as const) {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'ddl', '--layout', layout, '--database', 'cs'], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const printed = splitStatements(run.stdout);
    assert.deepEqual(printed, (await allStatements('cs', layout)).map((s) => s.sql), `${layout}: the CLI prints what start-up runs`);
    for (const name of (await loadCatalog(DDL_DIR)).migrations.map((m) => m.name)) assert.ok(run.stdout.includes(`-- ${name}\n`), `${layout}: ${name} is labelled`);
    for (const sql of printed) await assertParses(client!, sql);
  }
  // The check can fail: a broken statement is refused by the parser.
  await assert.rejects(assertParses(client!, "CREATE TABLE cs.t ON CLUSTER '{cluster}' (a UInt8 ENGINE = Memory"), /Syntax error/);
});

test('`chainsight serve` on a database with a newer schema exits 1 and says why, before listening', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chainsight-newer-schema-'));
  try {
    mkdirSync(join(dir, 'trust'));
    // chdb opens one data directory per process: the newer binary's work happens in a child of its own.
    const migrateTs = new URL('../../src/store/migrate.ts', import.meta.url).href;
    const clientTs = new URL('../../src/store/client.ts', import.meta.url).href;
    const newer = `
      const { migrate } = await import(${JSON.stringify(migrateTs)});
      const { openClient } = await import(${JSON.stringify(clientTs)});
      const c = openClient({ database: 'chainsight', target: { kind: 'embedded', dataDir: process.argv[1] } });
      await migrate(c, 'chainsight');
      await c.insert({ table: 'chainsight.schema_migrations', format: 'JSONEachRow',
        values: [{ version: 950, name: '950_alerts', checksum: 'ab', layout: 'single', applied_at: Date.now(), applied_by: 'newer pid 1' }] });
      await c.close();`;
    const setup = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', newer, join(dir, 'clickhouse')], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(setup.status, 0, setup.stderr);
    const serve = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, CHAINSIGHT_DATA_DIR: dir, CHAINSIGHT_API_PORT: '0', CHAINSIGHT_OTLP_PORT: '0', CLICKHOUSE_URL: '' },
    });
    assert.equal(serve.status, 1, serve.stderr);
    assert.doesNotMatch(serve.stderr + serve.stdout, /chainsight serving/);
    assert.match(serve.stderr, /refusing to start on database chainsight: the database has a newer schema: migration 950_alerts \(version 950, applied .* by newer pid 1\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
