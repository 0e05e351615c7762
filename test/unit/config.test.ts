import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { apiBaseUrl, ConfigError, databaseName, loadConfig } from '../../src/config/config.js';

test('defaults: embedded store under ./data, receiver 4318, API 8480, loopback', () => {
  const c = loadConfig({});
  assert.equal(c.dataDir, resolve('./data'));
  assert.deepEqual(c.store.target, { kind: 'embedded', dataDir: resolve('./data/clickhouse') });
  assert.equal(c.trustDir, resolve('./data/trust'));
  assert.deepEqual(c.otlp, { host: '127.0.0.1', port: 4318, audiences: ['chainsight'] });
  assert.equal(c.emitterAuth.default, 'none');
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
  assert.throws(() => loadConfig({ CHAINSIGHT_MAX_SPANS_PER_REQUEST: '0' }), /CHAINSIGHT_MAX_SPANS_PER_REQUEST must be an integer of at least 1/);
});

test('CLICKHOUSE_URL selects a server, otherwise the embedded store', () => {
  assert.deepEqual(loadConfig({}, { data: '/d' }).store.target, { kind: 'embedded', dataDir: '/d/clickhouse' });
  const server = loadConfig({ CLICKHOUSE_URL: 'http://ch:8123', CHAINSIGHT_CLICKHOUSE_LAYOUT: 'replicated', CLICKHOUSE_USER: 'u' }).store;
  assert.deepEqual(server.target, { kind: 'server', url: 'http://ch:8123', username: 'u' });
  assert.equal(server.layout, 'replicated');
  assert.throws(() => loadConfig({ CLICKHOUSE_URL: 'http://ch:8123', CHAINSIGHT_CLICKHOUSE_LAYOUT: 'sharded' }), /CHAINSIGHT_CLICKHOUSE_LAYOUT must be one of single, replicated/);
  assert.throws(() => loadConfig({ CHAINSIGHT_CLICKHOUSE_LAYOUT: 'replicated' }), /needs CLICKHOUSE_URL/);
  assert.throws(() => loadConfig({ CLICKHOUSE_URL: 'ch:8123' }), /CLICKHOUSE_URL must be an http/);
  assert.throws(() => loadConfig({ CHAINSIGHT_DATABASE: 'a-b' }), /CHAINSIGHT_DATABASE: invalid/);
});

test('every problem is reported at once, each naming its variable', () => {
  const err = (() => {
    try {
      loadConfig({ CHAINSIGHT_OTLP_PORT: '70000', CHAINSIGHT_LOG_LEVEL: 'loud', KAFKA_BROKERS: 'a:9092,nohost', CHAINSIGHT_BATCH_DELAY_MS: '1.5' });
    } catch (e) {
      return e as ConfigError;
    }
    return undefined;
  })();
  assert.ok(err instanceof ConfigError);
  assert.equal(err.problems.length, 4);
  assert.match(err.message, /CHAINSIGHT_OTLP_PORT must be an integer from 0 to 65535/);
  assert.match(err.message, /CHAINSIGHT_LOG_LEVEL must be one of/);
  assert.match(err.message, /KAFKA_BROKERS .*"nohost"/);
  assert.match(err.message, /CHAINSIGHT_BATCH_DELAY_MS/);
});

test('valid values pass: ports, log level, brokers, Kafka timings', () => {
  const c = loadConfig({ CHAINSIGHT_OTLP_PORT: '65535', CHAINSIGHT_LOG_LEVEL: 'debug', KAFKA_BROKERS: '[::1]:9092', CHAINSIGHT_KAFKA_SESSION_TIMEOUT_MS: '6000', CHAINSIGHT_KAFKA_HEARTBEAT_MS: '1000' });
  assert.equal(c.otlp.port, 65535);
  assert.equal(c.logLevel, 'debug');
  assert.deepEqual(c.kafka.brokers, ['[::1]:9092']);
  assert.throws(() => loadConfig({ CHAINSIGHT_KAFKA_SESSION_TIMEOUT_MS: '6000', CHAINSIGHT_KAFKA_HEARTBEAT_MS: '6000' }), /shorter than/);
});

test('a command may lower the default log level; the environment still wins', () => {
  assert.equal(loadConfig({}, {}, { logLevel: 'warn' }).logLevel, 'warn');
  assert.equal(loadConfig({ CHAINSIGHT_LOG_LEVEL: 'info' }, {}, { logLevel: 'warn' }).logLevel, 'info');
});

test('unknown CHAINSIGHT_* variables are reported as likely typos; known ones are not', () => {
  const c = loadConfig({ CHAINSIGHT_OTLP_PROT: '4318', CHAINSIGHT_CACHE: '/x', CHAINSIGHT_HOST: '127.0.0.1', OTHER: '1' });
  assert.deepEqual(c.unknownVariables, ['CHAINSIGHT_OTLP_PROT']);
});

test('CHAINSIGHT_POLICY is a file path: a missing or unparsable file is named', () => {
  assert.throws(() => loadConfig({ CHAINSIGHT_POLICY: '/nonexistent/policy.json' }), /policy file \/nonexistent\/policy\.json: cannot read it \(ENOENT\)/);
  const dir = mkdtempSync(join(tmpdir(), 'cs-config-'));
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{ maxDepth: ');
  assert.throws(() => loadConfig({ CHAINSIGHT_POLICY: broken }), new RegExp(`policy file ${broken.replaceAll('/', '\\/')}: .*JSON`));
});

test('client commands: the API URL and database name are validated too', () => {
  assert.equal(apiBaseUrl({}), 'http://127.0.0.1:8480');
  assert.equal(apiBaseUrl({ CHAINSIGHT_API_URL: 'https://cs.example:8480' }), 'https://cs.example:8480');
  assert.throws(() => apiBaseUrl({ CHAINSIGHT_API_URL: 'ftp://x' }), /CHAINSIGHT_API_URL/);
  assert.equal(databaseName({}), 'chainsight');
  assert.throws(() => databaseName({ CHAINSIGHT_DATABASE: 'x;DROP' }), /CHAINSIGHT_DATABASE/);
});

test('emitter authentication: policy per trust domain, TLS files both or neither, audiences', () => {
  const c = loadConfig({ CHAINSIGHT_EMITTER_AUTH: 'default=either, acme.example=mtls', CHAINSIGHT_OTLP_AUDIENCE: 'chainsight, ingest.acme.example' });
  assert.equal(c.emitterAuth.default, 'either');
  assert.equal(c.emitterAuth.domains.get('acme.example'), 'mtls');
  assert.deepEqual(c.otlp.audiences, ['chainsight', 'ingest.acme.example']);
  assert.equal(c.otlp.tls, undefined);
  assert.throws(
    () => loadConfig({ CHAINSIGHT_EMITTER_AUTH: 'acme.example=strict', CHAINSIGHT_OTLP_TLS_CERT: '/nonexistent/cert.pem' }),
    (e: Error) => /CHAINSIGHT_EMITTER_AUTH: "acme.example=strict"/.test(e.message) && /CHAINSIGHT_OTLP_TLS_CERT and CHAINSIGHT_OTLP_TLS_KEY go together/.test(e.message),
  );
  assert.throws(() => loadConfig({ CHAINSIGHT_OTLP_TLS_CERT: '/nonexistent/cert.pem', CHAINSIGHT_OTLP_TLS_KEY: '/nonexistent/key.pem' }), /cannot read \/nonexistent\/cert.pem/);
});
