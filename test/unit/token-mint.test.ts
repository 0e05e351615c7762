/** SDK minting and key files. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { loadSigningKey, privateKeyFileName, readBundle, type SigningKey } from '../../src/sdk/keys.js';
import { MintError, mintChild, mintRoot } from '../../src/sdk/mint.js';
import { TOKEN_TYPE, tokenHash } from '../../src/verify/token.js';
import { HUMAN, TASK, makeTrustDomain, type TestDomain } from '../support/keys.js';

const NOW = Date.parse('2026-03-27T14:00:00Z');
const S = NOW / 1000;
let d: TestDomain;
before(async () => {
  d = await makeTrustDomain();
});
after(() => d.cleanup());
const planner = (): SigningKey => d.agents.planner as SigningKey;
const root = (ttlSec = 7200): Promise<string[]> => mintRoot({ authzKey: d.authz, human: HUMAN, agent: d.id('planner'), scope: ['cloud:*'], task: TASK, purpose: 'review', ttlSec, now: NOW, jti: 'r1' });

test('mintRoot: header, claims and times', async () => {
  const [t] = await root();
  assert.deepEqual(decodeProtectedHeader(t as string), { alg: 'EdDSA', kid: d.authz.kid, typ: TOKEN_TYPE });
  assert.deepEqual(decodeJwt(t as string), { iss: HUMAN, sub: d.id('planner'), scope: ['cloud:*'], iat: S, nbf: S, exp: S + 7200, jti: 'r1', task: TASK, purpose: 'review' });
});

test('mintChild: prf, task, issuer and exp = min(parent exp, now + ttl)', async () => {
  const r = await root();
  const short = await mintChild({ parentChain: r, signerKey: planner(), delegatee: d.id('scanner'), scope: ['cloud:read'], ttlSec: 600, now: NOW });
  const c = decodeJwt(short[1] as string);
  assert.equal(c.prf, tokenHash(r[0] as string));
  assert.equal(c.iss, d.id('planner'));
  assert.equal(c.task, TASK);
  assert.equal(c.exp, S + 600);
  assert.equal(c.purpose, undefined);
  const capped = await mintChild({ parentChain: r, signerKey: planner(), delegatee: d.id('scanner'), scope: ['cloud:read'], ttlSec: 99_999, now: NOW });
  assert.equal(decodeJwt(capped[1] as string).exp, S + 7200);
  const dflt = await mintChild({ parentChain: r, signerKey: planner(), delegatee: d.id('scanner'), scope: ['cloud:read'], now: NOW });
  assert.equal(decodeJwt(dflt[1] as string).exp, S + 7200);
});

test('minting refuses what a verifier would reject, unless told to', async () => {
  const r = await root();
  const child = { parentChain: r, signerKey: planner(), delegatee: d.id('scanner'), now: NOW };
  await assert.rejects(mintChild({ ...child, scope: ['iam:*'] }), (e: unknown) => e instanceof MintError && /iam:\* is not covered/.test(e.message));
  await assert.rejects(mintChild({ ...child, signerKey: d.agents.rogue as SigningKey, scope: ['cloud:read'] }), /not the parent link's delegatee/);
  await assert.rejects(mintChild({ ...child, scope: ['cloud:read'], now: NOW + 8000_000 }), /parent link has expired/);
  await assert.rejects(mintRoot({ authzKey: planner(), human: HUMAN, agent: d.id('planner'), scope: ['a'], task: TASK, ttlSec: 60 }), /not an authorization key/);
  await assert.rejects(mintRoot({ authzKey: d.authz, human: d.id('rogue'), agent: d.id('planner'), scope: ['a'], task: TASK, ttlSec: 60 }), /human account/);
  await assert.rejects(mintRoot({ authzKey: d.authz, human: HUMAN, agent: 'spiffe://other.org/a', scope: ['a'], task: TASK, ttlSec: 60 }), /not in trust domain co.com/);
  const escalated = await mintChild({ ...child, scope: ['iam:*'], unsafe: { skipChecks: true } });
  assert.deepEqual(decodeJwt(escalated[1] as string).scope, ['iam:*']);
  const odd = await mintChild({ ...child, scope: ['cloud:read'], unsafe: { claims: { prf: 'x', extra: 1 }, omit: ['jti'], header: { typ: 'JWT' } } });
  const oc = decodeJwt(odd[1] as string);
  assert.deepEqual([oc.prf, oc.extra, oc.jti], ['x', 1, undefined]);
  assert.equal(decodeProtectedHeader(odd[1] as string).typ, 'JWT');
});

test('key files: private keys reload with their binding; bundles hold public halves only', async () => {
  const loaded = await loadSigningKey(join(d.dir, 'private', privateKeyFileName('co.com', d.id('planner'))));
  assert.equal(loaded.kid, planner().kid);
  assert.equal(loaded.principal, d.id('planner'));
  const authz = await loadSigningKey(join(d.dir, 'private', privateKeyFileName('co.com')));
  assert.equal(authz.role, 'authorization');
  const bundle = await readBundle(d.dir, 'co.com');
  assert.equal(bundle.keys.length, 5, 'authorization key + 4 agents, all kept');
  for (const k of bundle.keys) assert.equal('d' in k, false);
  assert.match(await readFile(join(d.dir, 'co.com.jwks.json'), 'utf8'), /"chainsight_principal": "spiffe:\/\/co.com\/agent\/scanner"/);
  // A token minted with a reloaded key is the same as with the original.
  const a = await mintRoot({ authzKey: authz, human: HUMAN, agent: d.id('planner'), scope: ['a'], task: TASK, ttlSec: 60, now: NOW, jti: 'same' });
  const b = await mintRoot({ authzKey: d.authz, human: HUMAN, agent: d.id('planner'), scope: ['a'], task: TASK, ttlSec: 60, now: NOW, jti: 'same' });
  assert.equal(a[0], b[0], 'Ed25519 is deterministic');
});
