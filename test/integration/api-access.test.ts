/**
 * The analyst API against a real identity provider (HTTPS JWKS, tokens minted
 * with jose) over chdb: every registered route is checked for authentication,
 * role and tenant isolation, and every hostile token is refused.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApiHarness, type ApiHarness } from '../support/api-harness.js';
import { unsignedToken, hmacToken } from '../support/oidc-issuer.js';
import { TASK_SHARED, TASK_CO, TASK_PARTNER, PLANNER, CO, PARTNER, SHARED_PLANNER_SPAN } from '../support/api-fixtures.js';
import { registeredRoutes } from '../support/api-routes.js';
import { Authenticator } from '../../src/serve/auth.js';
import { Metrics } from '../../src/serve/metrics.js';
import { OPENAPI_DOCUMENT } from '../../src/serve/openapi.js';

let h: ApiHarness;
before(async () => { h = await startApiHarness(); });
after(async () => h.close());

const token = (tenants: unknown, role: unknown = 'viewer') => h.token(tenants, role);
const get = (path: string, bearer?: string) => h.get(path, bearer);

/** A concrete request path for a documented path template, naming an object of the co.example tenant. */
function concrete(path: string): string {
  return path.replace('{taskId}', encodeURIComponent(TASK_SHARED)).replace('{agentId}', encodeURIComponent(PLANNER)).replace('{spanId}', SHARED_PLANNER_SPAN);
}

type Operations = Record<string, Record<string, { 'x-chainsight-access': string }>>;
const access = (path: string, method = 'GET'): string => (OPENAPI_DOCUMENT.paths as unknown as Operations)[path]![method.toLowerCase()]!['x-chainsight-access'];

test('every registered route is documented with its access, and every documented route is registered', () => {
  const routes = [...registeredRoutes(h.router), ...registeredRoutes(h.alertsRouter)];
  assert.ok(routes.length >= 11, 'the walk found the routes');
  const documented = Object.entries(OPENAPI_DOCUMENT.paths as unknown as Operations).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
  assert.deepEqual(routes.map((r) => `${r.method} ${r.path}`).sort(), documented.sort());
  for (const r of routes) assert.match(access(r.path, r.method), /^(open|viewer|responder|admin)$/, r.path);
});

test('open routes answer without a token; every guarded route answers 401 with WWW-Authenticate without one', async () => {
  for (const { path } of registeredRoutes(h.router)) {
    const res = await get(concrete(path));
    if (access(path) === 'open') {
      assert.equal(res.status, 200, path);
      continue;
    }
    assert.equal(res.status, 401, path);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="chainsight"', path);
    assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8', path);
    assert.equal(res.body.type, 'urn:chainsight:problem:unauthenticated', path);
  }
});

test('a valid token without a role is 403 on every guarded route; a viewer is 403 on admin routes only', async () => {
  const noRole = await token([CO], null);
  const unknownRole = await token([CO], 'superuser');
  const viewer = await token([CO]);
  for (const { path } of registeredRoutes(h.router)) {
    if (access(path) === 'open') continue;
    for (const t of [noRole, unknownRole]) {
      const res = await get(concrete(path), t);
      assert.equal(res.status, 403, path);
      assert.equal(res.body.type, 'urn:chainsight:problem:forbidden');
    }
    const asViewer = await get(concrete(path), viewer);
    assert.equal(asViewer.status, access(path) === 'admin' ? 403 : 200, path);
  }
  assert.equal((await get('/metrics', await token([CO], 'admin'))).status, 200);
  assert.equal((await get('/metrics', await token([CO], 'responder'))).status, 403);
});

test("a token of another tenant sees nothing of co.example's objects on any guarded route", async () => {
  const outsider = await token(['elsewhere.example'], 'viewer');
  const insider = await token([CO], 'viewer');
  for (const { path } of registeredRoutes(h.router)) {
    if (access(path) !== 'viewer') continue;
    const mine = await get(concrete(path), insider);
    const theirs = await get(concrete(path), outsider);
    assert.equal(mine.status, 200, path);
    if (path.endsWith('/tree') || path.endsWith('/decision')) {
      assert.equal(theirs.status, 404, path);
      assert.equal(theirs.body.type, 'urn:chainsight:problem:not-found');
      continue;
    }
    assert.equal(theirs.status, 200, path);
    const list = (b: Record<string, unknown>) => (b.tasks ?? b.actions ?? b.delegations ?? b.decisions) as unknown[];
    assert.ok(list(mine.body).length > 0, `${path}: the insider sees rows`);
    assert.deepEqual(list(theirs.body), [], `${path}: the outsider sees none`);
    assert.equal(theirs.body.nextCursor, null);
  }
  // A token with a role and no tenants claim at all sees nothing either.
  const none = await get('/api/tasks', await h.idp.mint({ chainsight_role: 'admin' }));
  assert.deepEqual(none.body.tasks, []);
});

test('a task crossing trust domains: each tenant sees only its own agents\' actions, counted as such', async () => {
  const co = await token([CO]);
  const partner = await token([PARTNER]);
  const both = await token(['*']);
  const agentsOf = (actions: Array<{ agent_id: string }>) => [...new Set(actions.map((a) => a.agent_id.split('/')[2]))].sort();
  const coActs = await get(`/api/tasks/${TASK_SHARED}/actions`, co);
  const partnerActs = await get(`/api/tasks/${TASK_SHARED}/actions`, partner);
  const allActs = await get(`/api/tasks/${TASK_SHARED}/actions`, both);
  assert.deepEqual(agentsOf(coActs.body.actions), [CO]);
  assert.deepEqual(agentsOf(partnerActs.body.actions), [PARTNER]);
  // An agent id that is no SPIFFE ID belongs to no tenant: only a token for every domain ('*') sees it.
  const rogue = allActs.body.actions.filter((a: { agent_id: string }) => a.agent_id === 'rogue-agent');
  assert.equal(rogue.length, 1);
  assert.equal(coActs.body.actions.length + partnerActs.body.actions.length + 1, allActs.body.actions.length);
  const coTree = await get(`/api/tasks/${TASK_SHARED}/tree`, co);
  assert.equal(coTree.body.total, coActs.body.actions.length);
  const listed = (b: { tasks: Array<{ task_id: string; actions: number }> }) => Object.fromEntries(b.tasks.map((t) => [t.task_id, t.actions]));
  const coList = listed((await get('/api/tasks', co)).body);
  const partnerList = listed((await get('/api/tasks', partner)).body);
  assert.deepEqual(Object.keys(coList).sort(), [TASK_CO, TASK_SHARED].sort());
  assert.deepEqual(Object.keys(partnerList).sort(), [TASK_PARTNER, TASK_SHARED].sort());
  assert.equal(coList[TASK_SHARED], coActs.body.actions.length);
  assert.equal(partnerList[TASK_SHARED], partnerActs.body.actions.length);
  // The partner's task does not exist for co.example.
  assert.equal((await get(`/api/tasks/${TASK_PARTNER}/tree`, co)).status, 404);
  // Links follow their own trust domain.
  const coLinks = (await get(`/api/agents/${encodeURIComponent(PLANNER)}/delegations`, co)).body.delegations as Array<{ trust_domain: string }>;
  const partnerLinks = (await get(`/api/agents/${encodeURIComponent(PLANNER)}/delegations`, partner)).body.delegations as Array<{ trust_domain: string }>;
  assert.ok(coLinks.length > 0 && coLinks.every((d) => d.trust_domain === CO));
  assert.ok(partnerLinks.length > 0 && partnerLinks.every((d) => d.trust_domain === PARTNER));
});

test('hostile and broken tokens are refused with 401 and a reason; the keys are fetched over HTTPS', async () => {
  const now = Math.floor(Date.now() / 1000);
  const good = { chainsight_tenants: [CO], chainsight_role: 'admin' };
  const cases: Array<[string, string, RegExp]> = [
    ['expired', await h.idp.mint(good, { expSec: -120 }), /expired/],
    ['not yet valid', await h.idp.mint(good, { nbfSec: 300 }), /nbf/],
    ['wrong issuer', await h.idp.mint({ ...good, iss: 'https://evil.example/' }), /iss/],
    ['wrong audience', await h.idp.mint({ ...good, aud: 'another-api' }), /aud/],
    ['no exp', await h.idp.mint({ ...good, exp: undefined }), /exp/],
    ['alg none', unsignedToken({ ...good, iss: h.idp.issuer, aud: h.idp.audience, sub: 'x', exp: now + 300 }), /algorithm|malformed/],
    ['HS256 keyed with the public key', await hmacToken({ ...good, iss: h.idp.issuer, aud: h.idp.audience, sub: 'x', exp: now + 300 }, h.idp.rsaPublicPem), /algorithm/],
    ['unknown kid', await h.idp.mint(good, { kid: 'not-a-key' }), /no key/],
    ['not a JWT', 'abc.def', /malformed/],
  ];
  const [header] = (await h.idp.mint(good)).split('.');
  const forged = Buffer.from(JSON.stringify({ ...good, chainsight_tenants: ['*'], iss: h.idp.issuer, aud: h.idp.audience, sub: 'x', exp: now + 300 })).toString('base64url');
  const sig = (await h.idp.mint({ ...good, chainsight_tenants: [CO] })).split('.')[2];
  cases.push(['payload swapped under a valid signature', `${header}.${forged}.${sig}`, /signature/]);
  for (const [name, t, why] of cases) {
    const res = await get('/api/tasks', t);
    assert.equal(res.status, 401, name);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="chainsight", error="invalid_token", error_description="[^"]+"$/, name);
    assert.match(res.body.detail, why, name);
    assert.doesNotMatch(JSON.stringify(res.body), /at .*\.js|node_modules/, name);
  }
  assert.equal((await get('/api/tasks', 'Basic YWxpY2U6cHc=')).status, 401);
  // Within the configured skew an expired token still passes (clocks differ); beyond it, it does not.
  assert.equal((await get('/api/tasks', await h.idp.mint(good, { expSec: -10 }))).status, 200);
  assert.equal((await get('/api/tasks', await h.idp.mint(good, { alg: 'ES256' }))).status, 200);
  assert.ok(h.idp.fetches >= 1, 'the JWKS came from the HTTPS endpoint');
});

test('keys that cannot be fetched, or a JWKS endpoint whose certificate is not trusted, let no one in (503, logged)', async () => {
  const untrusted = await h.serve({ auth: new Authenticator(h.settings({ jwks: { kind: 'url', url: h.idp.jwksUrl } })) });
  try {
    const before = h.logged.length;
    const res = await fetch(`${untrusted.base}/api/tasks`, { headers: { authorization: `Bearer ${await token([CO])}` } });
    assert.equal(res.status, 503);
    const body = (await res.json()) as { type: string; errorId: string };
    assert.equal(body.type, 'urn:chainsight:problem:auth-unavailable');
    assert.ok(body.errorId);
    assert.equal(h.logged.length, before + 1);
    assert.equal((await fetch(`${untrusted.base}/healthz`)).status, 200, 'open routes stay up');
  } finally {
    untrusted.close();
  }
});

test('a configured scrape secret opens /metrics only; anything else still needs an admin token', async () => {
  const secret = 'k'.repeat(20) + 'scrape-secret-0123456789';
  const api = await h.serve({ auth: new Authenticator(h.settings()), metrics: new Metrics(), metricsToken: secret });
  assert.equal((await h.get('/metrics', secret, api.base)).status, 200);
  assert.equal((await h.get('/metrics', secret + 'x', api.base)).status, 401);
  assert.equal((await h.get('/metrics', undefined, api.base)).status, 401);
  assert.equal((await h.get('/api/tasks', secret, api.base)).status, 401, 'the scrape secret is no API token');
  assert.equal((await h.get('/metrics', await token([CO], 'admin'), api.base)).status, 200);
});
