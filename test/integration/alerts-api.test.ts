/**
 * The alert routes' access rules against a real identity provider over chdb:
 * a viewer sees only its tenants' alerts, a responder acts only on them,
 * and a token without a role, or of another tenant, gets nothing.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApiHarness, type ApiHarness } from '../support/api-harness.js';
import { CO, PARTNER } from '../support/api-fixtures.js';
import { CO_ALERT_ID, PARTNER_ALERT_ID } from '../support/alerts.js';

let h: ApiHarness;
before(async () => { h = await startApiHarness(); });
after(async () => h.close());

test("a viewer lists and reads only its tenants' alerts; another tenant's alert answers 404 like an unknown one", async () => {
  const co = await h.token([CO], 'viewer');
  const listed = await h.get('/api/alerts', co);
  assert.equal(listed.status, 200);
  assert.deepEqual(new Set(listed.body.alerts.map((a: { tenant: string }) => a.tenant)), new Set([CO]));
  assert.equal(listed.body.alerts.length, 2);
  assert.equal((await h.get(`/api/alerts/${CO_ALERT_ID}`, co)).status, 200);
  const theirs = await h.get(`/api/alerts/${PARTNER_ALERT_ID}`, co);
  const unknown = await h.get(`/api/alerts/${'0'.repeat(32)}`, co);
  assert.equal(theirs.status, 404);
  assert.equal(unknown.status, 404);
  assert.equal(theirs.body.title, unknown.body.title);
  const everyone = await h.get('/api/alerts', await h.token(['*'], 'viewer'));
  assert.equal(everyone.body.alerts.length, 3);
  const nobody = await h.get('/api/alerts', await h.token(['elsewhere.example'], 'viewer'));
  assert.deepEqual(nobody.body.alerts, []);
});

test('filters narrow the list: kind, severity minimum, state, agent, task', async () => {
  const all = await h.token(['*'], 'viewer');
  const q = async (query: string) => (await h.get(`/api/alerts?${query}`, all)).body.alerts.map((a: { kind: string; tenant: string }) => `${a.tenant} ${a.kind}`).sort();
  assert.deepEqual(await q('kind=integrity.not_delegatee'), [`${CO} integrity.not_delegatee`]);
  assert.deepEqual(await q('severity=high'), [`${CO} integrity.not_delegatee`]);
  assert.deepEqual(await q(`agent=${encodeURIComponent('spiffe://partner.example/agent/billing/b-1')}`), [`${PARTNER} policy.violation`]);
  assert.deepEqual(await q('task=task-co'), [`${CO} integrity.not_delegatee`, `${CO} policy.violation`]);
  assert.deepEqual(await q('state=resolved'), []);
});

test("a responder of another tenant cannot acknowledge or resolve; a token without a role cannot even read", async () => {
  const partnerResponder = await h.token([PARTNER], 'responder');
  for (const action of ['acknowledge', 'resolve']) {
    const res = await h.post(`/api/alerts/${CO_ALERT_ID}/${action}`, { note: 'not mine' }, partnerResponder);
    assert.equal(res.status, 404, action);
  }
  const noRole = await h.token([CO], null);
  assert.equal((await h.get('/api/alerts', noRole)).status, 403);
  assert.equal((await h.get(`/api/alerts/${CO_ALERT_ID}`, noRole)).status, 403);
  assert.equal((await h.post(`/api/alerts/${CO_ALERT_ID}/acknowledge`, {}, noRole)).status, 403);
  const viewer = await h.token([CO], 'viewer');
  assert.equal((await h.post(`/api/alerts/${CO_ALERT_ID}/resolve`, {}, viewer)).status, 403);
  const a = await h.get(`/api/alerts/${CO_ALERT_ID}`, await h.token([CO], 'viewer'));
  assert.equal(a.body.state, 'open', 'nothing above changed it');
});

test('the actor recorded is the token subject, whatever the body says', async () => {
  const responder = await h.token([CO], 'responder');
  const res = await h.post(`/api/alerts/${CO_ALERT_ID}/acknowledge`, { note: 'by: admin' }, responder);
  assert.equal(res.status, 200);
  const detail = await h.get(`/api/alerts/${CO_ALERT_ID}`, responder);
  const last = detail.body.history[detail.body.history.length - 1];
  assert.equal(last.state, 'acknowledged');
  assert.equal(last.note, 'by: admin');
  assert.notEqual(last.actor, 'admin');
  assert.equal(last.actor, detail.body.acknowledgedBy);
  assert.ok(last.actor.length > 0);
});
