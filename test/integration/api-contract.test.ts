/**
 * The OpenAPI document against reality: the routes express registered are the
 * documented ones, and every route's real answers, success and error, validate
 * (ajv, JSON Schema 2020-12) against the schema the document gives for their
 * status and content type. Cursor pagination walks every list without loss
 * or repeat and refuses cursors it did not issue.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApiHarness, type Answer, type ApiHarness } from '../support/api-harness.js';
import { TASK_SHARED, TASK_CO, TASK_CO_ACTIONS, PLANNER, SHARED_PLANNER_SPAN } from '../support/api-fixtures.js';
import { registeredRoutes } from '../support/api-routes.js';
import { OPENAPI_DOCUMENT } from '../../src/serve/openapi.js';
import { assertDocumented, compileSchema, operation, resolvePointer } from '../support/openapi-validate.js';

let h: ApiHarness;
let admin = '';
before(async () => {
  h = await startApiHarness();
  admin = await h.token(['*'], 'admin');
});
after(async () => h.close());

function concrete(path: string, taskId = TASK_SHARED): string {
  return path.replace('{taskId}', encodeURIComponent(taskId)).replace('{agentId}', encodeURIComponent(PLANNER)).replace('{spanId}', SHARED_PLANNER_SPAN);
}

test('the served document is the OpenAPI 3.1 document, and every $ref in it resolves', async () => {
  const res = await h.get('/openapi.json');
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, JSON.parse(JSON.stringify(OPENAPI_DOCUMENT)));
  assert.equal(res.body.openapi, '3.1.0');
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === '$ref') resolvePointer(v as string);
        else walk(v);
      }
    }
  };
  walk(OPENAPI_DOCUMENT);
  // The schemas compile as JSON Schema 2020-12.
  for (const name of Object.keys(OPENAPI_DOCUMENT.components.schemas)) compileSchema(name);
});

test('every route answers what its schema says: success, and each error it documents', async () => {
  const noRole = await h.token(['*'], null);
  for (const { path } of registeredRoutes(h.router)) {
    const ok = await h.get(concrete(path), admin);
    assert.equal(ok.status, 200, path);
    assertDocumented(path, ok);
    if (path.endsWith('/tree')) {
      const text = await h.get(`${concrete(path)}?format=text&actions=true`, admin);
      assert.equal(text.status, 200);
      assertDocumented(path, text);
      assertDocumented(path, await h.get(concrete(path, 'no-such-task'), admin));
      assertDocumented(path, await h.get(concrete(path, 'x'.repeat(600)), admin));
      for (const q of ['format=html', 'actions=yes', 'format=text&format=json']) {
        const bad = await h.get(`${concrete(path)}?${q}`, admin);
        assert.equal(bad.status, 400, q);
        assertDocumented(path, bad);
      }
    }
    if (path.endsWith('/decision')) {
      const opa = await h.get(`${concrete(path)}?format=opa`, admin);
      assert.equal(opa.status, 200);
      assertDocumented(path, opa);
      const none = await h.get(concrete(path, 'no-such-task'), admin);
      assert.equal(none.status, 404);
      assertDocumented(path, none);
      const bad = await h.get(`${concrete(path)}?format=xml`, admin);
      assert.equal(bad.status, 400);
      assertDocumented(path, bad);
    }
    if (operation(path).responses['401'] === undefined) continue;
    const anonymous = await h.get(concrete(path));
    assert.equal(anonymous.status, 401);
    assertDocumented(path, anonymous);
    const forbidden = await h.get(concrete(path), noRole);
    assert.equal(forbidden.status, 403);
    assertDocumented(path, forbidden);
    if (path !== '/metrics' && !path.endsWith('/tree') && !path.endsWith('/decision')) {
      for (const q of ['limit=0', 'limit=1001', 'limit=abc', 'cursor=bogus', 'limit=1&limit=2']) {
        const bad = await h.get(`${concrete(path)}?${q}`, admin);
        assert.equal(bad.status, 400, `${path}?${q}`);
        assertDocumented(path, bad);
      }
    }
  }
  const unknown = await h.get('/api/nothing-here', admin);
  assert.equal(unknown.status, 404);
  assert.equal(unknown.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  assert.ok(compileSchema('Problem')(unknown.body));
});

/** Every page of a list, following nextCursor. */
async function pages(first: string, key: 'tasks' | 'actions' | 'delegations'): Promise<Array<Array<Record<string, unknown>>>> {
  const out: Array<Array<Record<string, unknown>>> = [];
  let url: string | null = first;
  while (url !== null && out.length < 50) {
    const res: Answer = await h.get(url, admin);
    assert.equal(res.status, 200, url);
    out.push(res.body[key]);
    url = res.body.nextCursor === null ? null : `${first}&cursor=${encodeURIComponent(res.body.nextCursor)}`;
  }
  return out;
}

test('cursors walk every list in order, without loss or repeat, and the last page says so', async () => {
  const all = (await h.get(`/api/tasks/${TASK_CO}/actions`, admin)).body.actions as Array<{ span_id: string; ts: string }>;
  assert.equal(all.length, TASK_CO_ACTIONS);
  const actionPages = await pages(`/api/tasks/${TASK_CO}/actions?limit=2`, 'actions');
  assert.deepEqual(actionPages.map((p) => p.length), [2, 2, 1]);
  assert.deepEqual(actionPages.flat().map((a) => a.span_id), all.map((a) => a.span_id));

  const tasks = (await h.get('/api/tasks', admin)).body.tasks as Array<{ task_id: string }>;
  const taskPages = await pages('/api/tasks?limit=1', 'tasks');
  assert.equal(taskPages.length, tasks.length);
  assert.deepEqual(taskPages.flat().map((t) => t.task_id), tasks.map((t) => t.task_id));

  const links = (await h.get(`/api/agents/${encodeURIComponent(PLANNER)}/delegations`, admin)).body.delegations as Array<{ link_hash: string }>;
  const linkPages = await pages(`/api/agents/${encodeURIComponent(PLANNER)}/delegations?limit=3`, 'delegations');
  assert.deepEqual(linkPages.map((p) => p.length), [3, links.length - 3]);
  assert.deepEqual(linkPages.flat().map((d) => d.link_hash), links.map((d) => d.link_hash));
});

test('a cursor forged, edited, or used on another list or other filters is a 400, never a query', async () => {
  const first = await h.get(`/api/tasks/${TASK_CO}/actions?limit=2`, admin);
  const cursor = first.body.nextCursor as string;
  const [body, mac] = cursor.split('.') as [string, string];
  const edited = Buffer.from(Buffer.from(body, 'base64url').toString().replace(/"ts\\":\\"\d/, '"ts\\":\\"1')).toString('base64url');
  const injected = Buffer.from(JSON.stringify(["{\"ts\":\"2020-01-01 00:00:00' OR 1=1 --\",\"spanId\":\"x\"}"])).toString('base64url');
  const tries: Array<[string, string]> = [
    ['edited position', `/api/tasks/${TASK_CO}/actions?limit=2&cursor=${edited}.${mac}`],
    ['injected position', `/api/tasks/${TASK_CO}/actions?limit=2&cursor=${injected}.${mac}`],
    ['other page size', `/api/tasks/${TASK_CO}/actions?limit=3&cursor=${cursor}`],
    ['other task', `/api/tasks/${TASK_SHARED}/actions?limit=2&cursor=${cursor}`],
    ['other list', `/api/tasks?limit=2&cursor=${cursor}`],
    ['no MAC', `/api/tasks/${TASK_CO}/actions?limit=2&cursor=${body}`],
    ['too long', `/api/tasks/${TASK_CO}/actions?limit=2&cursor=${'A'.repeat(5000)}`],
  ];
  assert.notEqual(edited, body, 'the edit changed the position');
  for (const [name, url] of tries) {
    const res = await h.get(url, admin);
    assert.equal(res.status, 400, name);
    assert.match(res.body.type, /invalid-cursor|invalid-request/, name);
  }
  // The genuine cursor still works.
  assert.equal((await h.get(`/api/tasks/${TASK_CO}/actions?limit=2&cursor=${cursor}`, admin)).status, 200);
});

test('the alert routes answer what their schemas say: success, each documented error, and cursors that walk the list', async () => {
  const { CO_ALERT_ID } = await import('../support/alerts.js');
  const noRole = await h.token(['*'], null);
  const viewer = await h.token(['*'], 'viewer');
  const responder = await h.token(['*'], 'responder');
  const list = '/api/alerts';
  const one = '/api/alerts/{alertId}';
  const ok = await h.get(list, admin);
  assert.equal(ok.status, 200);
  assertDocumented(list, ok);
  assert.equal(ok.body.alerts.length, 3);
  for (const q of ['state=firing', 'kind=nope', 'severity=urgent', 'since=yesterday', 'limit=0', 'limit=1001', 'cursor=bogus', 'state=open&state=resolved']) {
    const bad = await h.get(`${list}?${q}`, admin);
    assert.equal(bad.status, 400, q);
    assertDocumented(list, bad);
  }
  for (const [t, status] of [[undefined, 401], [noRole, 403]] as const) {
    const res = await h.get(list, t);
    assert.equal(res.status, status);
    assertDocumented(list, res);
  }

  const detail = await h.get(`/api/alerts/${CO_ALERT_ID}`, admin);
  assert.equal(detail.status, 200);
  assertDocumented(one, detail);
  assert.deepEqual(detail.body.evidence.spanIds, ['span1']);
  for (const [id, status] of [['0'.repeat(32), 404], ['not-an-id', 400], ['A'.repeat(32), 400]] as const) {
    const res = await h.get(`/api/alerts/${id}`, admin);
    assert.equal(res.status, status, id);
    assertDocumented(one, res);
  }

  const ack = '/api/alerts/{alertId}/acknowledge';
  const resolve = '/api/alerts/{alertId}/resolve';
  const path = (p: string, id = CO_ALERT_ID) => p.replace('{alertId}', id);
  for (const [body, what] of [[{ note: 5 }, 'a note that is not text'], [{ by: 'mallory' }, 'an unknown field'], ['[', 'JSON that does not parse'], [[1], 'an array'], [{ note: 'x'.repeat(1025) }, 'a note too long']] as const) {
    const res = await h.post(path(ack), body, responder);
    assert.equal(res.status, 400, what);
    assertDocumented(ack, res, 'post');
  }
  for (const [t, status] of [[undefined, 401], [noRole, 403], [viewer, 403]] as const) {
    const res = await h.post(path(ack), {}, t);
    assert.equal(res.status, status);
    assertDocumented(ack, res, 'post');
  }
  const missing = await h.post(path(resolve, 'f'.repeat(32)), {}, responder);
  assert.equal(missing.status, 404);
  assertDocumented(resolve, missing, 'post');
  const acked = await h.post(path(ack), { note: 'on it' }, responder);
  assert.equal(acked.status, 200);
  assertDocumented(ack, acked, 'post');
  assert.equal(acked.body.state, 'acknowledged');
  const resolved = await h.post(path(resolve), {}, responder);
  assert.equal(resolved.status, 200);
  assertDocumented(resolve, resolved, 'post');
  assert.equal(resolved.body.state, 'resolved');
  const conflict = await h.post(path(ack), {}, responder);
  assert.equal(conflict.status, 409);
  assertDocumented(ack, conflict, 'post');

  const all = (await h.get(`${list}?limit=100`, admin)).body.alerts as Array<{ id: string }>;
  const seen: string[] = [];
  let url: string | null = `${list}?limit=1`;
  while (url !== null && seen.length < 10) {
    const res: Answer = await h.get(url, admin);
    assert.equal(res.status, 200);
    seen.push(...res.body.alerts.map((a: { id: string }) => a.id));
    url = res.body.nextCursor === null ? null : `${list}?limit=1&cursor=${encodeURIComponent(res.body.nextCursor)}`;
  }
  assert.deepEqual(seen, all.map((a) => a.id));
  const first = await h.get(`${list}?limit=1`, admin);
  const elsewhere = await h.get(`${list}?limit=1&severity=low&cursor=${encodeURIComponent(first.body.nextCursor)}`, admin);
  assert.equal(elsewhere.status, 400, 'a cursor is valid only with the filters it was issued for');
});
