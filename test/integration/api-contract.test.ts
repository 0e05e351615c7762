/**
 * The OpenAPI document against reality: the routes every router of the app
 * registered (src/serve/app.ts) are the documented ones, and every
 * operation's real answers, success and error, validate (ajv, JSON Schema
 * 2020-12) against the schema the document gives for their status and content
 * type. Every list is cursor-paged; the cursors walk each list without loss or
 * repeat and refuse cursors the server did not issue.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApiHarness, type Answer, type ApiHarness } from '../support/api-harness.js';
import { TASK_SHARED, TASK_CO, TASK_CO_ACTIONS, PLANNER } from '../support/api-fixtures.js';
import { registeredRoutes } from '../support/api-routes.js';
import { OPENAPI_DOCUMENT } from '../../src/serve/openapi.js';
import { assertDocumented, compileSchema, documentedOperations, resolvePointer, successStatus, type Operation } from '../support/openapi-validate.js';
import { concretePath, requestBody } from '../support/api-operations.js';

let h: ApiHarness;
let admin = '';
before(async () => {
  h = await startApiHarness();
  admin = await h.token(['*'], 'admin');
});
after(async () => h.close());

const concrete = (path: string, taskId?: string) => concretePath(path, taskId === undefined ? {} : { taskId });

test('every route a router registered is documented, and every documented operation is registered', () => {
  const registered = registeredRoutes(h.app).map((r) => `${r.method} ${r.path}`).sort();
  const documented = documentedOperations().map((o) => `${o.method} ${o.path}`).sort();
  assert.ok(registered.length >= 12, 'the walk went into every mounted router');
  assert.deepEqual(registered, documented);
  for (const { method, path, op } of documentedOperations()) {
    assert.match(op['x-chainsight-access'], /^(open|viewer|responder|admin)$/, `${method} ${path}`);
    if (op['x-chainsight-access'] !== 'open') assert.match(op['x-chainsight-tenancy'] ?? '', /^(own|every)$/, `${method} ${path}`);
  }
});

/** The 200 schema's properties of an operation (through $ref and oneOf). */
function successProperties(op: Operation): Set<string> {
  const out = new Set<string>();
  const visit = (schema: any): void => {
    if (schema?.$ref) return visit(resolvePointer(schema.$ref));
    for (const branch of schema?.oneOf ?? []) visit(branch);
    for (const k of Object.keys(schema?.properties ?? {})) out.add(k);
  };
  const ok = op.responses[String(successStatus(op))]!;
  for (const media of Object.values(ok.content ?? {})) visit(media.schema);
  return out;
}

test('every list is cursor-paged: it names its items, takes limit and cursor, and answers nextCursor', () => {
  for (const { method, path, op } of documentedOperations()) {
    const props = successProperties(op);
    const params = op.parameters.map((p) => p.name);
    const list = op['x-chainsight-list'];
    const pages = props.has('nextCursor') || list !== undefined || params.includes('cursor');
    if (!pages) continue;
    assert.ok(list && props.has(list), `${method} ${path}: names its item property`);
    assert.ok(props.has('nextCursor'), `${method} ${path}: answers nextCursor`);
    assert.ok(params.includes('cursor') && params.includes('limit'), `${method} ${path}: takes cursor and limit`);
  }
  // A GET whose answer holds an array at the top and that is no single resource's view must be one of them.
  const views = /\/(tree|decision|chain)$|\{(id|alertId)\}$|^\/openapi\.json$|^\/metrics$|^\/healthz$/;
  for (const { method, path, op } of documentedOperations()) {
    if (method !== 'GET' || views.test(path)) continue;
    assert.ok(op['x-chainsight-list'], `GET ${path} lists: it must be cursor-paged (x-chainsight-list)`);
  }
});

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

test('every operation answers what its schema says: success, and each error it documents', async () => {
  const noRole = await h.token(['*'], null);
  for (const { method, path, op } of documentedOperations()) {
    const name = `${method} ${path}`;
    const body = requestBody(op);
    const ok = await h.request(method, concrete(path), admin, body);
    assert.equal(ok.status, successStatus(op), `${name}: ${JSON.stringify(ok.body).slice(0, 300)}`);
    assertDocumented(path, ok, method);
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
    if (path.startsWith('/api/blast-radius/')) {
      const bad = await h.get(concrete(path).replace('/agent/', '/planet/'), admin);
      assert.equal(bad.status, 400);
      assertDocumented(path, bad);
    }
    if (body !== undefined) {
      // Hostile bodies: not an object, missing and unknown fields, not JSON, values out of their schema.
      const schema = resolvePointer((op.requestBody!.content['application/json'] as { schema: { $ref: string } }).schema.$ref);
      const fields = Object.keys(schema.properties ?? {});
      const hostile: unknown[] = ['x', [], { ...body, extra: 1 }];
      if ((schema.required ?? []).length > 0) hostile.push({});
      if (fields.includes('kind')) hostile.push({ ...body, kind: 'planet' });
      for (const f of ['reason', 'note']) if (fields.includes(f)) hostile.push({ ...body, [f]: 'r'.repeat(20_000) });
      for (const b of hostile) {
        const bad = await h.request(method, concrete(path), admin, b);
        assert.equal(bad.status, 400, `${name} ${JSON.stringify(b).slice(0, 60)}`);
        assertDocumented(path, bad, method);
      }
      const notJson = await fetch(h.base + concrete(path), { method, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: '{"kind":' });
      assert.equal(notJson.status, 400);
      assertDocumented(path, { status: notJson.status, headers: notJson.headers, body: await notJson.json() }, method);
    }
    if (op.responses['401'] === undefined) continue;
    const anonymous = await h.request(method, concrete(path), undefined, body);
    assert.equal(anonymous.status, 401, name);
    assertDocumented(path, anonymous, method);
    const forbidden = await h.request(method, concrete(path), noRole, body);
    assert.equal(forbidden.status, 403, name);
    assertDocumented(path, forbidden, method);
    if (op['x-chainsight-list'] !== undefined) {
      for (const q of ['limit=0', 'limit=1001', 'limit=abc', 'cursor=bogus', 'limit=1&limit=2']) {
        const bad = await h.request(method, `${concrete(path)}?${q}`, admin);
        assert.equal(bad.status, 400, `${path}?${q}`);
        assertDocumented(path, bad, method);
      }
    }
  }
  const unknown = await h.get('/api/nothing-here', admin);
  assert.equal(unknown.status, 404);
  assert.equal(unknown.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  assert.ok(compileSchema('Problem')(unknown.body));
});

/** Every page of a list, following nextCursor. */
async function pages(first: string, key: 'tasks' | 'actions' | 'delegations' | 'revocations'): Promise<Array<Array<Record<string, unknown>>>> {
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

  // Revocations made in one millisecond still split on their id.
  for (let i = 0; i < 4; i++) {
    const made = await h.request('POST', '/api/revocations', admin, { kind: 'key', target: `kid-${i}`, reason: 'rotated', revokedBy: 'x', revokedAt: 1_700_000_000_000 });
    assert.equal(made.status, 201);
  }
  const revocations = (await h.get('/api/revocations?kind=key', admin)).body.revocations as Array<{ id: string; revokedAtMs: number }>;
  assert.equal(revocations.length, 4);
  const revocationPages = await pages('/api/revocations?kind=key&limit=3', 'revocations');
  assert.deepEqual(revocationPages.map((p) => p.length), [3, 1]);
  assert.deepEqual(revocationPages.flat().map((r) => r.id), revocations.map((r) => r.id));
  assert.deepEqual(revocations.map((r) => r.id), [...revocations].sort((a, b) => b.revokedAtMs - a.revokedAtMs || (a.id < b.id ? -1 : 1)).map((r) => r.id));
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
