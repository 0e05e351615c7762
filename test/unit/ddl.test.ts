import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allStatements, renderDdl, toClusterLayout } from '../../src/store/migrate.js';
import { assertIdentifier, storeConfigFromEnv } from '../../src/store/client.js';

test('the cluster layout: replicated local tables behind Distributed tables sharded by task, same columns', async () => {
  const single = await allStatements('cs', 'single');
  const cluster = await allStatements('cs', 'replicated');
  assert.equal(single.length, 4);
  assert.equal(cluster.length, 7);
  assert.equal(cluster[0], "CREATE DATABASE IF NOT EXISTS cs ON CLUSTER '{cluster}'");
  const actions = cluster[1]!;
  assert.match(actions, /^CREATE TABLE IF NOT EXISTS cs\.actions_local ON CLUSTER '\{cluster\}'/);
  assert.match(actions, /ENGINE = ReplicatedReplacingMergeTree\('\/clickhouse\/tables\/\{shard\}\/\{database\}\/actions_local', '\{replica\}', received_at\)/);
  assert.match(cluster[2]!, /^CREATE TABLE IF NOT EXISTS cs\.actions ON CLUSTER '\{cluster\}' AS cs\.actions_local\nENGINE = Distributed\('\{cluster\}', cs, actions_local, cityHash64\(task_id\)\)$/);
  assert.match(cluster[3]!, /ReplicatedReplacingMergeTree\('\/clickhouse\/tables\/\{shard\}\/\{database\}\/delegations_local', '\{replica\}'\)/);
  const cols = (sql: string) => sql.slice(sql.indexOf('('), sql.indexOf('ENGINE'));
  assert.equal(cols(actions), cols(single[1]!));
});

test('a statement that is not a ReplacingMergeTree table has no cluster layout', () => {
  assert.throws(() => toClusterLayout('CREATE TABLE IF NOT EXISTS cs.t\n(a UInt8) ENGINE = Memory'), /cannot derive/);
});

test('the database name is substituted only when it is an identifier', () => {
  const [stmt] = renderDdl('-- comment\nCREATE TABLE ${db}.t (a UInt8) ENGINE = Memory;', 'chainsight_1');
  assert.equal(stmt, 'CREATE TABLE chainsight_1.t (a UInt8) ENGINE = Memory');
  assert.throws(() => renderDdl('SELECT 1', 'x; DROP TABLE y'), /invalid ClickHouse database name/);
  assert.throws(() => assertIdentifier('1abc'), /invalid/);
});

test('CLICKHOUSE_URL selects a server, otherwise the embedded store', () => {
  assert.deepEqual(storeConfigFromEnv({}, '/d').target, { kind: 'embedded', dataDir: '/d' });
  const server = storeConfigFromEnv({ CLICKHOUSE_URL: 'http://ch:8123', CHAINSIGHT_CLICKHOUSE_LAYOUT: 'replicated' }, '/d');
  assert.equal(server.target.kind, 'server');
  assert.equal(server.layout, 'replicated');
  assert.throws(() => storeConfigFromEnv({ CLICKHOUSE_URL: 'http://ch:8123', CHAINSIGHT_CLICKHOUSE_LAYOUT: 'sharded' }, '/d'), /single or replicated/);
  assert.throws(() => storeConfigFromEnv({ CHAINSIGHT_DATABASE: 'a-b' }, '/d'), /invalid/);
});
