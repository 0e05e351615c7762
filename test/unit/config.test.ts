import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../src/config/config.js';

test('defaults: embedded store under ./data, receiver 4318, API 8480, loopback', () => {
  const c = loadConfig({});
  assert.equal(c.dataDir, resolve('./data'));
  assert.deepEqual(c.store.target, { kind: 'embedded', dataDir: resolve('./data/clickhouse') });
  assert.equal(c.trustDir, resolve('./data/trust'));
  assert.deepEqual(c.otlp, { host: '127.0.0.1', port: 4318 });
  assert.deepEqual(c.api, { host: '127.0.0.1', port: 8480 });
  assert.equal(c.policy.maxDepth, 5);
  assert.deepEqual(c.kafka.brokers, []);
});

test('flags win over the environment, which wins over defaults', () => {
  const env = { CHAINSIGHT_DATA_DIR: '/srv/cs', CHAINSIGHT_OTLP_PORT: '14318', KAFKA_BROKERS: 'a:9092, b:9092', CHAINSIGHT_KAFKA_PARTITIONS: '12' };
  const c = loadConfig(env, { otlpPort: 0 });
  assert.equal(c.dataDir, '/srv/cs');
  assert.equal(c.otlp.port, 0);
  assert.deepEqual(c.kafka.brokers, ['a:9092', 'b:9092']);
  assert.equal(c.kafka.partitions, 12);
  assert.equal(loadConfig(env, { data: '/tmp/x' }).dataDir, '/tmp/x');
});

test('a policy file is validated and applied', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cs-config-'));
  const good = join(dir, 'good.json');
  writeFileSync(good, JSON.stringify({ maxDepth: 3, implications: { 'infrastructure:review': ['cloud:read'] } }));
  const c = loadConfig({ CHAINSIGHT_POLICY: good });
  assert.equal(c.policy.maxDepth, 3);
  assert.deepEqual(c.policy.implications, { 'infrastructure:review': ['cloud:read'] });
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ maxDepth: 0 }));
  assert.throws(() => loadConfig({}, { policy: bad }), /maxDepth/);
});

test('malformed numbers are refused with the variable named', () => {
  assert.throws(() => loadConfig({ CHAINSIGHT_API_PORT: 'eighty' }), /CHAINSIGHT_API_PORT/);
  assert.throws(() => loadConfig({ CHAINSIGHT_BATCH_ROWS: '-5' }), /CHAINSIGHT_BATCH_ROWS/);
  assert.throws(() => loadConfig({ CHAINSIGHT_MAX_SPANS_PER_REQUEST: '0' }), /maxSpansPerRequest|positive/);
});
