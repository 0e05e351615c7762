import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { bearerToken, peerFromJwtSvid, type PeerTrust } from '../../src/ingest/peer-identity.js';
import type { TrustedKey } from '../../src/verify/trust-bundle.js';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const SUB = 'spiffe://acme.example/agent/a';
const NOW = 1_800_000_000_000;
const key = (use?: string): TrustedKey => ({ trustDomain: 'acme.example', kid: 'k1', algorithms: new Set(['ES256']), key: publicKey, ...(use ? { use } : {}) });
const trust = (use: string | null = 'jwt-svid'): PeerTrust => ({
  authorities: () => [],
  resolve: (td, kid) => (td === 'acme.example' && kid === 'k1' ? key(use ?? undefined) : undefined),
});
const opts = { audiences: ['chainsight'], skewSec: 30 };

async function token(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> {
  const now = NOW / 1000;
  const payload: Record<string, unknown> = { sub: SUB, aud: 'chainsight', exp: now + 300, iat: now, ...claims };
  for (const k of Object.keys(payload)) if (payload[k] === null) delete payload[k];
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: 'k1', ...header }).sign(privateKey);
}

test('a JWT-SVID signed by a jwt-svid key of its sub\'s domain, with exp and our audience, proves its sub', async () => {
  assert.deepEqual(await peerFromJwtSvid(await token(), trust(), opts, NOW), { ok: true, peer: { id: SUB, method: 'jwt-svid' } });
  assert.equal((await peerFromJwtSvid(await token({ aud: ['x', 'chainsight'] }), trust(), opts, NOW)).ok, true);
});

test('refused: wrong audience, no exp, expired, key not for JWT-SVIDs, unknown kid, other domain, none and HMAC', async () => {
  const refused = async (t: string, tr = trust()) => {
    const r = await peerFromJwtSvid(t, tr, opts, NOW);
    assert.equal(r.ok, false, t);
    return r.ok ? '' : r.error;
  };
  assert.match(await refused(await token({ aud: 'other' })), /aud/);
  assert.match(await refused(await token({ exp: null })), /exp/);
  assert.match(await refused(await token({ exp: NOW / 1000 - 60 })), /expired/);
  assert.match(await refused(await token(), trust('sig')), /no jwt-svid key/);
  assert.match(await refused(await token(), trust(null)), /no jwt-svid key/);
  assert.match(await refused(await token({}, { kid: 'k2' })), /no jwt-svid key "k2"/);
  assert.match(await refused(await token({ sub: 'spiffe://other.example/agent/a' })), /other\.example has no jwt-svid key/);
  assert.match(await refused(await token({ sub: 'alice' })), /not a workload SPIFFE ID/);
  assert.match(await refused(new UnsecuredJWT({ sub: SUB, aud: 'chainsight', exp: NOW / 1000 + 60 }).encode()), /algorithm "none"/);
  const h = Buffer.from(JSON.stringify({ alg: 'HS256', kid: 'k1' })).toString('base64url');
  const p = Buffer.from(JSON.stringify({ sub: SUB, aud: 'chainsight', exp: NOW / 1000 + 60 })).toString('base64url');
  assert.match(await refused(`${h}.${p}.${createHmac('sha256', 'k').update(`${h}.${p}`).digest('base64url')}`), /algorithm "HS256"/);
  const good = await token();
  assert.match(await refused(good.slice(0, -4) + (good.endsWith('AAAA') ? 'BBBB' : 'AAAA')), /signature or claims invalid/);
  assert.match(await refused('x'.repeat(9000)), /over 8192 bytes/);
});

test('the Authorization header: absent, Bearer, malformed', () => {
  assert.equal(bearerToken(undefined), undefined);
  assert.equal(bearerToken('Bearer a.b.c'), 'a.b.c');
  assert.equal(bearerToken('bearer a.b.c'), 'a.b.c');
  assert.equal(bearerToken('Basic dXNlcjpwYXNz'), null);
  assert.equal(bearerToken('Bearer a b'), null);
});
