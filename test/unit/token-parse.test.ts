/** Token parsing, the claims schema as executable spec, and the shipped examples. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Verdict } from '../../src/model/verdict.js';
import { claimRuleErrors, validateClaimsSchema } from '../../src/verify/claims.js';
import { ChainVerifier } from '../../src/verify/chain-verifier.js';
import { policyFromJson } from '../../src/verify/policy.js';
import { TOKEN_TYPE, canonicalBase64url, parseToken, tokenHash } from '../../src/verify/token.js';
import { TrustStore, type Jwks } from '../../src/verify/trust-store.js';
import { trustDomainOf } from '../../src/verify/spiffe.js';
import type { LinkClaims } from '../../src/model/delegation.js';
import { spanFor } from '../support/keys.js';

const EXAMPLES = new URL('../../schemas/examples/', import.meta.url);
const json = async <T>(name: string): Promise<T> => JSON.parse(await readFile(new URL(name, EXAMPLES), 'utf8')) as T;
const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const HEADER = { alg: 'EdDSA', kid: 'k1', typ: TOKEN_TYPE };
const CLAIMS: LinkClaims = {
  iss: 'alice@company.com',
  sub: 'spiffe://co.com/agent/planning',
  scope: ['cloud:read'],
  iat: 1774620000,
  nbf: 1774620000,
  exp: 1774627200,
  jti: 'j1',
  task: 'task-1',
};

test('parseToken: a well-formed link', () => {
  const r = parseToken(`${b64(HEADER)}.${b64(CLAIMS)}.${Buffer.alloc(64, 7).toString('base64url')}`);
  assert.ok(r.ok);
  assert.equal(r.token.header.kid, 'k1');
  assert.deepEqual(r.token.payload, CLAIMS);
  assert.equal(r.token.signature.length, 64);
  assert.equal(r.token.signingInput.toString(), `${b64(HEADER)}.${b64(CLAIMS)}`);
});

test('parseToken: malformed inputs are refused with a reason', () => {
  const sig = Buffer.alloc(64).toString('base64url');
  const cases: [string, RegExp][] = [
    ['', /three dot-separated/],
    ['a.b', /three dot-separated/],
    ['a.b.c.d', /three dot-separated/],
    [`.${b64(CLAIMS)}.${sig}`, /empty/],
    [`${b64(HEADER)}.${b64(CLAIMS)}.a+b/`, /signature is not canonical base64url/],
    [`${b64([1])}.${b64(CLAIMS)}.${sig}`, /header is not a JSON object/],
    [`${Buffer.from('{').toString('base64url')}.${b64(CLAIMS)}.${sig}`, /header is not base64url-encoded JSON/],
    [`${b64({ ...HEADER, alg: 1 })}.${b64(CLAIMS)}.${sig}`, /no alg/],
    [`${b64({ ...HEADER, kid: '' })}.${b64(CLAIMS)}.${sig}`, /no kid/],
    [`${b64({ ...HEADER, typ: 'JWT' })}.${b64(CLAIMS)}.${sig}`, /typ must be/],
    [`${b64({ ...HEADER, crit: ['b64'] })}.${b64(CLAIMS)}.${sig}`, /crit/],
    [`${b64(HEADER)}.${b64('str')}.${sig}`, /payload is not a JSON object/],
  ];
  for (const [token, re] of cases) {
    const r = parseToken(token);
    assert.ok(!r.ok && re.test(r.error), `${token}: ${JSON.stringify(r)}`);
  }
});

test('canonicalBase64url: alphabet, length and spare bits', () => {
  for (const n of [1, 2, 3, 32, 64, 65]) {
    const s = Buffer.alloc(n, 0xab).toString('base64url');
    assert.equal(canonicalBase64url(s), true, s);
  }
  assert.equal(canonicalBase64url('qw'), true); // 0xab
  assert.equal(canonicalBase64url('qx'), false); // same byte, spare bit set
  assert.equal(canonicalBase64url('q'), false); // impossible length
  assert.equal(canonicalBase64url('q+'), false);
  assert.equal(canonicalBase64url('qw=='), false);
});

test('tokenHash is base64url SHA-256 of the token text', () => {
  assert.equal(tokenHash('abc'), createHash('sha256').update('abc').digest('base64url'));
  assert.equal(tokenHash('abc').length, 43);
});

test('trustDomainOf: workload SPIFFE IDs only', () => {
  assert.equal(trustDomainOf('spiffe://co.com/agent/x'), 'co.com');
  for (const bad of ['spiffe://co.com', 'spiffe://co.com/', 'spiffe://Co.com/a', 'spiffe://co.com/a//b', 'spiffe://co.com/a/../b', 'https://co.com/a', 'alice@co.com', 'spiffe:///a']) {
    assert.equal(trustDomainOf(bad), undefined, bad);
  }
});

test('claims schema: accepts a root and a child, rejects what the spec forbids', () => {
  assert.ok(validateClaimsSchema(CLAIMS).ok);
  assert.ok(validateClaimsSchema({ ...CLAIMS, iss: 'spiffe://co.com/agent/p', prf: tokenHash('x'), purpose: 'p' }).ok);
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['missing exp', { ...CLAIMS, exp: undefined }, /must have required property 'exp'/],
    ['unknown claim', { ...CLAIMS, admin: true }, /additional properties \(admin\)/],
    ['sub not SPIFFE', { ...CLAIMS, sub: 'bob' }, /\/sub must match pattern/],
    ['sub trust domain only', { ...CLAIMS, sub: 'spiffe://co.com' }, /\/sub/],
    ['empty scope', { ...CLAIMS, scope: [] }, /\/scope must NOT have fewer than 1 items/],
    ['inner wildcard', { ...CLAIMS, scope: ['ec2:*Describe'] }, /\/scope\/0 must match pattern/],
    ['space in scope', { ...CLAIMS, scope: ['a b'] }, /\/scope\/0/],
    ['duplicate scope', { ...CLAIMS, scope: ['a', 'a'] }, /\/scope must NOT have duplicate items/],
    ['fractional time', { ...CLAIMS, iat: 1.5 }, /\/iat must be integer/],
    ['time as string', { ...CLAIMS, exp: '1774627200' }, /\/exp must be integer/],
    ['bad prf', { ...CLAIMS, prf: 'abc' }, /\/prf must match pattern/],
  ];
  for (const [name, claims, re] of bad) {
    const r = validateClaimsSchema(JSON.parse(JSON.stringify(claims)));
    assert.ok(!r.ok && re.test(r.error), `${name}: ${JSON.stringify(r)}`);
  }
});

test('claim rules the schema cannot state', () => {
  assert.deepEqual(claimRuleErrors(CLAIMS, true, 60), []);
  assert.deepEqual(claimRuleErrors({ ...CLAIMS, exp: CLAIMS.nbf }, true, 60), ['exp must be after nbf']);
  assert.deepEqual(claimRuleErrors({ ...CLAIMS, nbf: CLAIMS.iat - 61 }, true, 60), ['nbf is before iat (beyond clock skew)']);
  assert.deepEqual(claimRuleErrors({ ...CLAIMS, nbf: CLAIMS.iat - 60 }, true, 60), []);
  assert.deepEqual(claimRuleErrors({ ...CLAIMS, purpose: 'x' }, false, 60), ['purpose is allowed on the root link only']);
});

test('examples: every example claims object validates against the schema', async () => {
  const ex = await json<{ claims: unknown[]; headers: { typ: string }[] }>('chain-3-links.json');
  assert.equal(ex.claims.length, 3);
  for (const c of ex.claims) {
    const r = validateClaimsSchema(c);
    assert.ok(r.ok, JSON.stringify(r));
  }
  for (const h of ex.headers) assert.equal(h.typ, TOKEN_TYPE);
});

test('examples: the 3-link chain verifies against the example bundle and policy at its validAt time', async () => {
  const ex = await json<{ tokens: string[]; claims: LinkClaims[]; validAt: string }>('chain-3-links.json');
  const trust = await TrustStore.fromBundles({ 'co.com': await json<Jwks>('co.com.jwks.json') });
  const policy = policyFromJson(await json('policy.json'));
  const v = new ChainVerifier(trust, policy);
  const last = ex.claims[2] as LinkClaims;
  const span = spanFor(ex.tokens, { startMs: Date.parse(ex.validAt), agentId: last.sub, taskId: last.task, scopesUsed: ['ec2:DescribeInstances'] });
  assert.deepEqual(v.verifySpan(span), { status: 'verified', reasons: [] });
  // The decoded claims shipped beside the tokens are exactly what the tokens carry.
  const check = v.check(ex.tokens);
  assert.ok(!(check instanceof Promise));
  assert.deepEqual(check.links.map((l) => l.claims), ex.claims);
  // An hour later the two delegations to agents have expired; alice's (2 h) has not.
  const late = v.verifySpan({ ...span, startMs: Date.parse(ex.validAt) + 3600_000 }) as Verdict;
  assert.deepEqual(late.reasons.map((r) => `${r.code}@${r.link}`), ['time.expired@1', 'time.expired@2']);
});
