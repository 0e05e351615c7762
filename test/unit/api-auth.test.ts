import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authorize, principalFromClaims, type Principal } from '../../src/serve/auth.js';
import { CursorCodec, parseLimit } from '../../src/serve/pagination.js';
import { ApiProblem } from '../../src/serve/problem.js';

const names = { tenantsClaim: 'chainsight_tenants', roleClaim: 'chainsight_role' };

test('claims: the role, the highest known one of a list; tenants, valid trust domain names only; * for all', () => {
  assert.deepEqual(principalFromClaims({ sub: 'a', chainsight_role: 'viewer', chainsight_tenants: ['co.example', 'co.example'] }, names),
    { subject: 'a', role: 'viewer', tenants: ['co.example'], anonymous: false });
  assert.equal(principalFromClaims({ chainsight_role: ['viewer', 'admin', 'root'] }, names).role, 'admin');
  assert.equal(principalFromClaims({ chainsight_role: 'root' }, names).role, null);
  assert.equal(principalFromClaims({ chainsight_role: { admin: true } }, names).role, null);
  assert.deepEqual(principalFromClaims({ chainsight_tenants: ['Co.Example', '../x', 'ok.example', 7] }, names).tenants, ['ok.example']);
  assert.deepEqual(principalFromClaims({ chainsight_tenants: 'co.example' }, names).tenants, [], 'a string is not a list: no tenant');
  assert.equal(principalFromClaims({ chainsight_tenants: ['*'] }, names).tenants, 'all');
  assert.equal(principalFromClaims({ groups: 'admin' }, { ...names, roleClaim: 'groups' }).role, 'admin');
});

test('authorization: open routes for anyone; roles include the ones below them; no role is 403', () => {
  const p = (role: Principal['role']): Principal => ({ subject: 's', role, tenants: [], anonymous: false });
  const forbidden = (fn: () => void) => assert.throws(fn, (e: unknown) => e instanceof ApiProblem && e.kind === 'forbidden');
  assert.doesNotThrow(() => authorize(p(null), 'open'));
  forbidden(() => authorize(p(null), 'viewer'));
  assert.doesNotThrow(() => authorize(p('viewer'), 'viewer'));
  assert.doesNotThrow(() => authorize(p('admin'), 'responder'));
  forbidden(() => authorize(p('responder'), 'admin'));
  forbidden(() => authorize(p('viewer'), 'responder'));
});

test('cursors: round trip; any edit, other list, other scope or other key is refused', () => {
  const codec = new CursorCodec(Buffer.alloc(32, 1));
  const c = codec.encode('actions', '{"taskId":"t"}', ['pos']);
  assert.deepEqual(codec.decode('actions', '{"taskId":"t"}', c, 1), ['pos']);
  const invalid = (fn: () => unknown) => assert.throws(fn, (e: unknown) => e instanceof ApiProblem && e.kind === 'invalid-cursor');
  invalid(() => codec.decode('tasks', '{"taskId":"t"}', c, 1));
  invalid(() => codec.decode('actions', '{"taskId":"u"}', c, 1));
  invalid(() => new CursorCodec(Buffer.alloc(32, 2)).decode('actions', '{"taskId":"t"}', c, 1));
  invalid(() => codec.decode('actions', '{"taskId":"t"}', c, 2));
  const [body, mac] = c.split('.') as [string, string];
  for (const bad of [`${body}x.${mac}`, `${body}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`, body, '', `${body}.${mac}.x`, `!!.${mac}`]) invalid(() => codec.decode('actions', '{"taskId":"t"}', bad, 1));
  assert.throws(() => new CursorCodec(Buffer.alloc(16)), /at least 32 bytes/);
  // Two processes without a configured key do not accept each other's cursors.
  invalid(() => new CursorCodec().decode('a', 's', new CursorCodec().encode('a', 's', ['x']), 1));
});

test('page sizes: 1 to 1000', () => {
  assert.equal(parseLimit(undefined, 7), 7);
  assert.equal(parseLimit('1000'), 1000);
  for (const bad of ['0', '1001', '-1', '1e3', ' 5', '']) assert.throws(() => parseLimit(bad), ApiProblem, bad);
});
