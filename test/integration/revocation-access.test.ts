/**
 * Revocation and blast radius behind the analyst API's tokens and roles: a
 * responder revokes (recorded under its token's subject, whatever the body
 * claims), a viewer cannot, nobody without a valid token can, and blast
 * radius needs admin. All of them act or answer across tenants, so a token
 * for one tenant only is refused whatever its role.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Authenticator, routeGuard } from '../../src/serve/auth.js';
import { createRevocationRouter } from '../../src/serve/revocation-api.js';
import { RevocationStore } from '../../src/revoke/store.js';
import { BlastRadiusQueries } from '../../src/revoke/blast-radius.js';
import { startApiHarness, type ApiHarness } from '../support/api-harness.js';

let h: ApiHarness;
let base: string;
let close: () => void;

before(async () => {
  h = await startApiHarness();
  const auth = new Authenticator(h.settings());
  const app = express();
  app.use(createRevocationRouter({
    store: new RevocationStore(h.store.writer, h.store.config.database),
    blastRadius: new BlastRadiusQueries(h.store.reader, h.store.config.database),
    guard: routeGuard(auth),
  }));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => { server.closeAllConnections(); server.close(); };
});

after(async () => {
  close?.();
  await h?.close();
});

const revoke = (bearer: string | undefined, body: object) =>
  fetch(`${base}/api/revocations`, { method: 'POST', headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) }, body: JSON.stringify(body) });
const request = { kind: 'agent', target: 'spiffe://co.example/agent/rogue/r-1', reason: 'exfiltration', revokedBy: 'someone-else@co.example' };

test('revoking needs the responder role; the record names the token subject, not the body', async () => {
  const none = await revoke(undefined, request);
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  assert.equal((await revoke(await h.token(['*'], 'viewer'), request)).status, 403);
  assert.equal((await revoke(await h.token(['*'], null), request)).status, 403);
  const ok = await revoke(await h.idp.mint({ sub: 'responder-7', chainsight_tenants: ['*'], chainsight_role: 'responder' }), request);
  assert.equal(ok.status, 201, await ok.clone().text());
  const { revocation } = (await ok.json()) as { revocation: { revokedBy: string; target: string } };
  assert.equal(revocation.revokedBy, 'responder-7');
  assert.equal(revocation.target, request.target);
  const list = await fetch(`${base}/api/revocations`, { headers: { authorization: `Bearer ${await h.token(['*'], 'viewer')}` } });
  assert.equal(list.status, 403, 'listing revocations needs responder too');
});

test("one tenant's responder can neither revoke (the effect crosses tenants) nor read the revocations", async () => {
  const coOnly = await h.token(['co.example'], 'admin');
  const refused = await revoke(coOnly, { ...request, target: 'spiffe://partner.example/agent/billing/b-1' });
  assert.equal(refused.status, 403);
  assert.match(((await refused.json()) as { detail: string }).detail, /every tenant/);
  const list = await fetch(`${base}/api/revocations?target=${encodeURIComponent('spiffe://partner.example/agent/billing/b-1')}`, { headers: { authorization: `Bearer ${await h.token(['*'], 'responder')}` } });
  assert.equal(list.status, 200);
  assert.deepEqual(((await list.json()) as { revocations: unknown[] }).revocations, [], 'the refused revocation was not recorded');
  assert.equal((await fetch(`${base}/api/revocations`, { headers: { authorization: `Bearer ${coOnly}` } })).status, 403);
});

test('blast radius answers across tenants: admin only', async () => {
  const path = `${base}/api/blast-radius/agent/${encodeURIComponent('spiffe://co.example/agent/planning/p-1')}`;
  assert.equal((await fetch(path)).status, 401);
  assert.equal((await fetch(path, { headers: { authorization: `Bearer ${await h.token(['*'], 'responder')}` } })).status, 403);
  assert.equal((await fetch(path, { headers: { authorization: `Bearer ${await h.token(['co.example'], 'admin')}` } })).status, 403, 'an admin of one tenant');
  const admin = await fetch(path, { headers: { authorization: `Bearer ${await h.token(['*'], 'admin')}` } });
  assert.equal(admin.status, 200);
});
