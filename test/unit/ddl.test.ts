import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { ddlDir, renderDdl } from '../../src/store/migrate.js';
import { assertIdentifier, storeConfigFromEnv } from '../../src/store/client.js';

const files = (layout: 'single' | 'replicated') => readdirSync(ddlDir(layout)).filter((f) => f.endsWith('.sql')).sort();

test('both layouts define the same tables, the cluster one behind Distributed tables sharded by task', () => {
  assert.deepEqual(files('single'), files('replicated'));
  for (const f of files('replicated')) {
    const single = renderDdl(readFileSync(ddlDir('single') + f, 'utf8'), 'cs');
    const cluster = renderDdl(readFileSync(ddlDir('replicated') + f, 'utf8'), 'cs');
    assert.equal(single.length, 1);
    assert.equal(cluster.length, 2);
    assert.match(cluster[0]!, /ReplicatedReplacingMergeTree\('\/clickhouse\/tables\/\{shard\}\/\{database\}\/\w+_local', '\{replica\}'/);
    assert.match(cluster[1]!, /ENGINE = Distributed\('\{cluster\}', cs, \w+_local, cityHash64\(task_id\)\)/);
    // Same columns in both: everything between the parentheses of the column list.
    const cols = (sql: string) => sql.slice(sql.indexOf('('), sql.indexOf('ENGINE'));
    assert.equal(cols(cluster[0]!), cols(single[0]!));
  }
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
