/**
 * How `serve` exposes the analyst API: open on loopback with a warning,
 * refused on another address without authentication (before anything is
 * opened), and guarded when an issuer is configured.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { startServer } from '../../src/runtime/server.js';
import { startConsumer } from '../../src/runtime/consumer.js';
import { startTestIssuer } from '../support/oidc-issuer.js';

const root = mkdtempSync(join(tmpdir(), 'cs-api-startup-'));
after(() => rmSync(root, { recursive: true, force: true }));

function capture() {
  const lines: Array<{ level: number; msg: string }> = [];
  const sink = new Writable({ write(chunk, _e, cb) { lines.push(JSON.parse(String(chunk))); cb(); } });
  return { lines, logger: pino({ level: 'info' }, sink) };
}

const env = (over: Record<string, string>) => ({ CLICKHOUSE_URL: process.env.CLICKHOUSE_URL ?? '', ...over });

test('on a non-loopback address without authentication, serve refuses to start and opens nothing', async () => {
  const data = join(root, 'refused');
  const config = loadConfig(env({}), { data, host: '0.0.0.0', otlpPort: 0, apiPort: 0 });
  await assert.rejects(startServer(config, capture().logger), (err: unknown) =>
    err instanceof ConfigError && /refusing to serve the analyst API on 0\.0\.0\.0 without authentication/.test(err.message) && /CHAINSIGHT_API_INSECURE=true/.test(err.message));
  assert.equal(existsSync(data), false, 'no data directory, no store opened');
  // A consumer serving /metrics beside its group membership is refused alike, before it joins the group.
  const member = loadConfig(env({ KAFKA_BROKERS: '127.0.0.1:1' }), { data, host: '10.0.0.1', apiPort: 0 });
  await assert.rejects(startConsumer(member, capture().logger), (err: unknown) => err instanceof ConfigError && /on 10\.0\.0\.1/.test(err.message));
  assert.equal(existsSync(data), false);
});

test('open on loopback says so at start; with an issuer configured every data route needs a token', async () => {
  const data = join(root, 'served');
  const open = capture();
  const s1 = await startServer(loadConfig(env({}), { data, otlpPort: 0, apiPort: 0 }), open.logger, { receiver: false });
  try {
    const warn = open.lines.find((l) => l.level === 40 && /analyst API is open/.test(l.msg));
    assert.ok(warn, 'a warning names the open API');
    assert.equal((await fetch(`${s1.apiUrl}/api/tasks`)).status, 200);
  } finally {
    await s1.stop();
  }

  const idp = await startTestIssuer();
  const jwksFile = join(root, 'idp-jwks.json');
  writeFileSync(jwksFile, JSON.stringify(idp.jwks));
  const guarded = capture();
  const config = loadConfig(env({ CHAINSIGHT_AUTH_ISSUER: idp.issuer, CHAINSIGHT_AUTH_AUDIENCE: idp.audience, CHAINSIGHT_AUTH_JWKS_FILE: jwksFile }), { data, otlpPort: 0, apiPort: 0 });
  const s2 = await startServer(config, guarded.logger, { receiver: false });
  try {
    assert.ok(guarded.lines.some((l) => /requires bearer tokens/.test(l.msg)));
    assert.ok(!guarded.lines.some((l) => l.level >= 40 && /API/.test(l.msg)), 'no API warning when authentication is configured');
    assert.equal((await fetch(`${s2.apiUrl}/healthz`)).status, 200);
    assert.equal((await fetch(`${s2.apiUrl}/api/tasks`)).status, 401);
    const viewer = await idp.mint({ chainsight_tenants: ['co.example'], chainsight_role: 'viewer' });
    const res = await fetch(`${s2.apiUrl}/api/tasks`, { headers: { authorization: `Bearer ${viewer}` } });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { tasks: [], nextCursor: null });
    assert.equal((await fetch(`${s2.apiUrl}/metrics`, { headers: { authorization: `Bearer ${viewer}` } })).status, 403);
  } finally {
    await s2.stop();
    await idp.close();
  }
});
