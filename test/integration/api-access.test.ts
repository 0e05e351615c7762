/**
 * The analyst API against a real identity provider (HTTPS JWKS, tokens minted
 * with jose) over chdb: every documented operation is checked for
 * authentication, role and tenant isolation, and every hostile token is refused.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApiHarness, type ApiHarness } from '../support/api-harness.js';
import { unsignedToken, hmacToken } from '../support/oidc-issuer.js';
import { TASK_SHARED, TASK_CO, TASK_PARTNER, PLANNER, CO, PARTNER } from '../support/api-fixtures.js';
import { concretePath, requestBody } from '../support/api-operations.js';
import { documentedOperations, successStatus } from '../support/openapi-validate.js';
import { Authenticator, ROLES } from '../../src/serve/auth.js';
import { Metrics } from '../../src/serve/metrics.js';

let h: ApiHarness;
before(async () => { h = await startApiHarness(); });
after(async () => h.close());

const token = (tenants: unknown, role: unknown = 'viewer') => h.token(tenants, role);
const get = (path: string, bearer?: string) => h.get(path, bearer);

/**
 * The authorization table: every operation of the served OpenAPI document (the
 * contract test holds it equal to the registered routes, so a new route lands
 * here by itself), each checked against what its `x-chainsight-access` and
 * `x-chainsight-tenancy` say: no token is 401; a token without a role, or
 * with an unknown one, is 403; a role below the route's is 403; a token of
 * another tenant gets nothing of co.example's (an empty list, a 404, or, on
 * a route that answers across tenants, a 403); the right token is answered.
 */
test('authorization, route by route from the OpenAPI document: no token, no role, too low a role, another tenant, the right token', async () => {
  const checked: string[] = [];
  for (const { method, path, op } of documentedOperations()) {
    const name = `${method} ${path}`;
    const url = concretePath(path);
    const body = requestBody(op);
    const call = (bearer?: string) => h.request(method, url, bearer, body);
    const access = op['x-chainsight-access'];
    const ok = successStatus(op);
    if (access === 'open') {
      assert.equal((await call()).status, ok, name);
      continue;
    }
    const tenancy = op['x-chainsight-tenancy'];
    const mine = tenancy === 'every' ? ['*'] : [CO];

    const anonymous = await call();
    assert.equal(anonymous.status, 401, name);
    assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer realm="chainsight"', name);
    assert.equal(anonymous.headers.get('content-type'), 'application/problem+json; charset=utf-8', name);
    assert.equal(anonymous.body.type, 'urn:chainsight:problem:unauthenticated', name);

    for (const role of [null, 'superuser']) {
      const res = await call(await token(mine, role));
      assert.equal(res.status, 403, `${name} role ${role}`);
      assert.equal(res.body.type, 'urn:chainsight:problem:forbidden', name);
    }
    for (const lower of ROLES.slice(0, ROLES.indexOf(access))) {
      assert.equal((await call(await token(mine, lower))).status, 403, `${name} as ${lower}`);
    }

    const insider = await call(await token(mine, access));
    assert.equal(insider.status, ok, `${name}: ${JSON.stringify(insider.body).slice(0, 200)}`);
    const list = op['x-chainsight-list'];
    if (list !== undefined && tenancy === 'own') assert.ok(insider.body[list].length > 0, `${name}: the insider sees rows`);

    const outsider = await call(await token(['elsewhere.example'], access));
    if (tenancy === 'every') {
      assert.equal(outsider.status, 403, `${name}: answers across tenants, so another tenant's token is refused`);
      assert.equal(outsider.body.type, 'urn:chainsight:problem:forbidden', name);
      // So is a token for co.example alone: it is not one for every tenant.
      assert.equal((await call(await token([CO], access))).status, 403, name);
    } else if (list !== undefined) {
      assert.equal(outsider.status, 200, name);
      assert.deepEqual(outsider.body[list], [], `${name}: the outsider sees none`);
      assert.equal(outsider.body.nextCursor, null, name);
    } else {
      assert.ok(op.responses['404'], `${name}: a single resource documents its 404`);
      assert.equal(outsider.status, 404, name);
      assert.equal(outsider.body.type, 'urn:chainsight:problem:not-found', name);
    }
    // A role and no tenants claim at all is no tenant's.
    const none = await call(await h.idp.mint({ chainsight_role: access }));
    if (tenancy === 'every') assert.equal(none.status, 403, name);
    else if (list !== undefined) assert.deepEqual(none.body[list], [], name);
    else assert.equal(none.status, 404, name);
    checked.push(name);
  }
  assert.ok(checked.length >= 10, `checked ${checked.join(', ')}`);
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
  assert.equal((await h.get('/metrics', await token(['*'], 'admin'), api.base)).status, 200);
  assert.equal((await h.get('/metrics', await token([CO], 'admin'), api.base)).status, 403, "one tenant's admin does not see every tenant's counts");
});
