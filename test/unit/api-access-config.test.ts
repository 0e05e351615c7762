import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { apiExposure } from '../../src/runtime/api-app.js';
import { openJwks } from '../../src/serve/jwks.js';

const AUTH = { CHAINSIGHT_AUTH_ISSUER: 'https://idp.example/realms/soc', CHAINSIGHT_AUTH_AUDIENCE: 'chainsight-api', CHAINSIGHT_AUTH_JWKS_URL: 'https://idp.example/certs' };

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  return [];
}

test('no CHAINSIGHT_AUTH_* variable: the API has no authentication configured', () => {
  const c = loadConfig({});
  assert.equal(c.apiAccess.auth, undefined);
  assert.equal(c.apiAccess.insecure, false);
  assert.equal(c.apiAccess.cursorKey, undefined);
});

test('a complete configuration: issuer, audience, JWKS URL, default algorithms, claim names and skew', () => {
  const c = loadConfig({ ...AUTH, CHAINSIGHT_AUTH_ROLE_CLAIM: 'groups', CHAINSIGHT_AUTH_CLOCK_SKEW_SEC: '5' });
  assert.deepEqual(c.apiAccess.auth, {
    issuer: AUTH.CHAINSIGHT_AUTH_ISSUER, audience: 'chainsight-api', jwks: { kind: 'url', url: AUTH.CHAINSIGHT_AUTH_JWKS_URL },
    algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'], tenantsClaim: 'chainsight_tenants', roleClaim: 'groups', clockSkewSec: 5,
  });
});

test('half a configuration is refused, naming every missing piece, never treated as open', () => {
  assert.deepEqual(problems({ CHAINSIGHT_AUTH_JWKS_URL: 'https://idp.example/certs' }), [
    'CHAINSIGHT_AUTH_ISSUER is required when authentication is configured',
    'CHAINSIGHT_AUTH_AUDIENCE is required when authentication is configured',
  ]);
  assert.match(problems({ ...AUTH, CHAINSIGHT_AUTH_JWKS_FILE: '/x.json' }).join(), /exactly one of CHAINSIGHT_AUTH_JWKS_URL and CHAINSIGHT_AUTH_JWKS_FILE/);
  assert.match(problems({ CHAINSIGHT_AUTH_ISSUER: 'i', CHAINSIGHT_AUTH_AUDIENCE: 'a' }).join(), /exactly one of/);
});

test('symmetric and unknown algorithms are refused; asymmetric lists are accepted', () => {
  assert.match(problems({ ...AUTH, CHAINSIGHT_AUTH_ALGORITHMS: 'RS256,HS256' }).join(), /refused: HS256/);
  assert.match(problems({ ...AUTH, CHAINSIGHT_AUTH_ALGORITHMS: 'none' }).join(), /refused: none/);
  assert.deepEqual(loadConfig({ ...AUTH, CHAINSIGHT_AUTH_ALGORITHMS: 'ES256, EdDSA' }).apiAccess.auth?.algorithms, ['ES256', 'EdDSA']);
});

test('the cursor key is at least 32 bytes of base64, from the variable or a file', () => {
  assert.match(problems({ CHAINSIGHT_API_CURSOR_KEY: 'c2hvcnQ=' }).join(), /at least 32 bytes/);
  const key = Buffer.alloc(32, 7).toString('base64');
  assert.deepEqual(loadConfig({ CHAINSIGHT_API_CURSOR_KEY: key }).apiAccess.cursorKey, Buffer.alloc(32, 7));
  const dir = mkdtempSync(join(tmpdir(), 'cs-cursor-'));
  writeFileSync(join(dir, 'key'), key + '\n');
  assert.deepEqual(loadConfig({ CHAINSIGHT_API_CURSOR_KEY: `@${join(dir, 'key')}` }).apiAccess.cursorKey, Buffer.alloc(32, 7));
  assert.match(problems({ CHAINSIGHT_API_CURSOR_KEY: `@${join(dir, 'missing')}` }).join(), /cannot read/);
  assert.match(problems({ CHAINSIGHT_API_INSECURE: 'yes' }).join(), /CHAINSIGHT_API_INSECURE must be one of true, false/);
});

test('the metrics scrape secret comes from a file and is long enough', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cs-metrics-'));
  writeFileSync(join(dir, 'short'), 'secret\n');
  writeFileSync(join(dir, 'good'), 'A'.repeat(40) + '\n');
  assert.match(problems({ CHAINSIGHT_METRICS_TOKEN_FILE: join(dir, 'short') }).join(), /at least 32 printable characters/);
  assert.match(problems({ CHAINSIGHT_METRICS_TOKEN_FILE: join(dir, 'missing') }).join(), /cannot read/);
  assert.equal(loadConfig({ CHAINSIGHT_METRICS_TOKEN_FILE: join(dir, 'good') }).apiAccess.metricsToken, 'A'.repeat(40));
});

test('exposure: open on loopback, refused elsewhere without auth unless explicitly insecure', () => {
  const open = { auth: undefined, insecure: false };
  assert.equal(apiExposure('127.0.0.1', open), 'open-loopback');
  assert.equal(apiExposure('::1', open), 'open-loopback');
  for (const host of ['0.0.0.0', '::', '10.0.0.5', 'api.internal', 'localhost']) {
    assert.throws(() => apiExposure(host, open), (err: unknown) => err instanceof ConfigError && /refusing to serve the analyst API on/.test(err.message), host);
    assert.equal(apiExposure(host, { auth: undefined, insecure: true }), 'open-insecure');
  }
  const auth = loadConfig(AUTH).apiAccess;
  assert.equal(apiExposure('0.0.0.0', auth), 'authenticated');
  assert.equal(apiExposure('127.0.0.1', auth), 'authenticated');
});

test('a JWKS file with private or symmetric keys is refused; a plain-http JWKS URL only on loopback', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cs-jwks-'));
  const file = join(dir, 'jwks.json');
  writeFileSync(file, JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'h' }] }));
  assert.throws(() => openJwks({ kind: 'file', path: file }), /private or symmetric/);
  writeFileSync(file, JSON.stringify({ nokeys: true }));
  assert.throws(() => openJwks({ kind: 'file', path: file }), /not a JWK Set/);
  assert.throws(() => openJwks({ kind: 'url', url: 'http://idp.example/certs' }), /must be https/);
  assert.doesNotThrow(() => openJwks({ kind: 'url', url: 'http://127.0.0.1:9/certs' }));
});
