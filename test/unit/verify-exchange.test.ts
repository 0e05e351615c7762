/**
 * Token-exchange tokens (spec §11): one STS-signed JWT whose nested `act`
 * claims carry the actors, mapped onto the chain model. Real jose-signed
 * tokens, real keys in a trust directory; each rule passes and fails.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { toActionRow, toDelegationRows } from '../../src/correlate/correlate.js';
import type { Verdict } from '../../src/model/verdict.js';
import { mintExchangeToken, nestActors, type MintExchangeOptions } from '../../src/sdk/exchange.js';
import { generateKey, type SigningKey } from '../../src/sdk/keys.js';
import { mintRoot } from '../../src/sdk/mint.js';
import { ChainVerifier } from '../../src/verify/chain-verifier.js';
import { readExchangeClaims } from '../../src/verify/exchange-claims.js';
import { defaultPolicy, type VerifyPolicy } from '../../src/verify/policy.js';
import { tokenHash } from '../../src/verify/token.js';
import type { TrustStore } from '../../src/verify/trust-store.js';
import { HUMAN, TASK, makeTrustDomain, spanFor, standardChain, type TestDomain } from '../support/keys.js';

const NOW = Math.floor(Date.now() / 1000) * 1000;
const AT = NOW + 1000;
const SCOPE = ['cloud:read', 'reports:write'];

let d: TestDomain;
let sts: SigningKey;
let partnerSts: SigningKey;
let trust: TrustStore;
let actors: string[];

before(async () => {
  d = await makeTrustDomain();
  await makeTrustDomain({ trustDomain: 'partner.org', agents: ['analytics'], dir: d.dir });
  sts = (await generateKey({ dir: d.dir, trustDomain: d.trustDomain, sts: true })).signingKey;
  partnerSts = (await generateKey({ dir: d.dir, trustDomain: 'partner.org', sts: true })).signingKey;
  trust = await d.trust();
  actors = [d.id('planner'), d.id('inventory'), d.id('scanner')];
});
after(() => d.cleanup());

const mint = (over: Partial<MintExchangeOptions> = {}): Promise<string> =>
  mintExchangeToken({ stsKey: sts, human: HUMAN, actors, scope: SCOPE, task: TASK, purpose: 'quarterly infrastructure review', ttlSec: 3600, now: NOW, ...over });
const verifier = (p: Partial<VerifyPolicy> = {}): ChainVerifier => new ChainVerifier(trust, { ...defaultPolicy(), ...p });
function verify(token: string, over: Parameters<typeof spanFor>[1] = {}, p: Partial<VerifyPolicy> = {}): Verdict {
  return verifier(p).verifySpan(spanFor([token], { startMs: AT, ...over })) as Verdict;
}
const codes = (v: Verdict): string[] => v.reasons.map((r) => (r.link === undefined ? r.code : `${r.code}@${r.link}`)).sort();
function assertOnly(v: Verdict, ...expected: string[]): void {
  assert.equal(v.status, 'failed');
  assert.deepEqual(codes(v), [...expected].sort(), JSON.stringify(v.reasons, null, 1));
}
const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const payloadOf = (t: string): Record<string, unknown> => JSON.parse(Buffer.from(t.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;

test('a valid exchange token verifies and maps onto the chain: human first, actors in order, one scope, sts-token evidence', async () => {
  const token = await mint();
  const v = verifier();
  const span = spanFor([token], { startMs: AT });
  const detail = v.verifyDetailed(span);
  assert.deepEqual(detail.verdict, { status: 'verified', reasons: [] });
  const s = detail.summary;
  assert.ok(s);
  assert.deepEqual(s.path, [HUMAN, ...actors]);
  assert.equal(s.rootHuman, HUMAN);
  assert.equal(s.depth, 3);
  assert.equal(s.delegator, d.id('inventory'));
  assert.deepEqual(s.grantedScopes, SCOPE);
  assert.equal(s.rootIssuedAtMs, NOW);
  assert.equal(s.purpose, 'quarterly infrastructure review');
  assert.equal(s.evidence, 'sts-token');
  // The first hop is the token's own hash, so revoking the token revokes every hop.
  assert.equal(s.linkHashes[0], tokenHash(token));
  assert.equal(new Set(s.linkHashes).size, 3);
  const rows = toDelegationRows(detail.check!, NOW);
  assert.deepEqual(rows.map((r) => r.parent_hash), ['', s.linkHashes[0], s.linkHashes[1]]);
  assert.ok(rows.every((r) => r.valid && r.scopes.join() === SCOPE.join()));
  const action = toActionRow(span, detail.verdict, s, detail.chainHash, NOW);
  assert.equal(action.chain_evidence, 'sts-token');
  // A second span of the same token costs no signature check.
  const checks = v.stats.signatureChecks;
  v.verifySpan(span);
  assert.equal(v.stats.signatureChecks, checks);
});

test('a chain of signed links is marked signed-links; a span without a chain has no evidence', async () => {
  const v = verifier();
  const links = v.verifyDetailed(spanFor(await standardChain(d, { now: NOW }), { startMs: AT }));
  assert.equal(links.verdict.status, 'verified');
  assert.equal(links.summary?.evidence, 'signed-links');
  assert.equal(toActionRow(spanFor(null), links.verdict, null, '', NOW).chain_evidence, '');
});

test("only the STS key of the current actor's trust domain may sign: agent, authorization and other domains' keys fail", async () => {
  assertOnly(verify(await mint({ stsKey: d.agents.scanner as SigningKey, unsafe: { skipChecks: true } })), 'signature.key_not_bound@0');
  assertOnly(verify(await mint({ stsKey: d.authz, unsafe: { skipChecks: true } })), 'signature.key_not_bound@0');
  assertOnly(verify(await mint({ stsKey: partnerSts, unsafe: { skipChecks: true } })), 'signature.unknown_key@0');
  // partner.org's STS does sign for a partner.org current actor.
  const partnerToken = await mint({ stsKey: partnerSts, actors: [d.id('planner'), 'spiffe://partner.org/agent/analytics'] });
  assert.equal(verify(partnerToken, { agentId: 'spiffe://partner.org/agent/analytics' }).status, 'verified');
  assertOnly(verify(await mint({ unsafe: { header: { x5c: ['AAAA'] } } })), 'signature.key_not_bound@0');
});

test('the STS key signs nothing but exchange tokens: a root link signed with it fails', async () => {
  const root = await mintRoot({ authzKey: sts, human: HUMAN, agent: d.id('planner'), scope: SCOPE, task: TASK, ttlSec: 600, now: NOW, unsafe: { skipChecks: true } });
  const v = verifier().verifySpan(spanFor(root, { startMs: AT, agentId: d.id('planner') })) as Verdict;
  assertOnly(v, 'signature.key_not_bound@0');
});

test('a tampered token fails its signature; alg none is forbidden', async () => {
  const token = await mint();
  const [h, p, s] = token.split('.') as [string, string, string];
  const claims = payloadOf(token);
  const swapped = `${h}.${b64({ ...claims, act: nestActors([d.id('planner'), d.id('rogue'), d.id('scanner')]) })}.${s}`;
  assertOnly(verify(swapped), 'signature.invalid@0');
  const widened = `${h}.${b64({ ...claims, scope: 'cloud:* reports:write' })}.${s}`;
  assertOnly(verify(widened), 'signature.invalid@0');
  const none = `${b64({ alg: 'none', kid: sts.kid, typ: 'chainsight-exchange+jwt' })}.${p}.`;
  assertOnly(verify(none), 'signature.algorithm_forbidden@0');
});

test('times come from the token: expired and not yet valid fail at every hop; too long a lifetime fails', async () => {
  const token = await mint({ ttlSec: 600 });
  assert.equal(verify(token, { startMs: NOW + 599_000 }).status, 'verified');
  assertOnly(verify(token, { startMs: NOW + 700_000 }), 'time.expired@0', 'time.expired@1', 'time.expired@2');
  assertOnly(verify(token, { startMs: NOW - 120_000 }), 'time.not_yet_valid@0', 'time.not_yet_valid@1', 'time.not_yet_valid@2');
  assertOnly(verify(await mint({ ttlSec: 5 * 3600 })), 'time.lifetime_exceeded@0');
});

test("the span's agent must be the current actor, its task the token's, its scope within the token's", async () => {
  const token = await mint();
  assertOnly(verify(token, { agentId: d.id('inventory') }), 'agent.mismatch');
  assertOnly(verify(token, { taskId: 'task-other' }), 'task.mismatch');
  assertOnly(verify(token, { scopesUsed: ['cloud:write'] }), 'scope.exceeded');
});

test('nesting is bounded by the policy maxDepth', async () => {
  const token = await mint();
  assert.equal(verify(token, {}, { maxDepth: 3 }).status, 'verified');
  assertOnly(verify(token, {}, { maxDepth: 2 }), 'chain.too_deep@0');
  // A thousand levels: refused on size before any JSON is read, no stack blown.
  const deep = await mint({ actors: Array.from({ length: 1000 }, (_, i) => d.id(`a${i}`)), unsafe: { skipChecks: true } });
  assertOnly(verify(deep, { agentId: d.id('a999') }), 'token.too_large@0');
  // Within the size limit but past the depth: refused before any actor beyond it is looked at.
  const wide = await mint({ actors: Array.from({ length: 40 }, (_, i) => d.id(`a${i}`)) });
  assertOnly(verify(wide, { agentId: d.id('a39') }, { maxTokenBytes: 1 << 16 }), 'chain.too_deep@0');
  // 15,000 levels inside the largest token a policy may allow: parsed, then refused at the bound.
  // Written as text: JSON.stringify itself recurses and would give out first.
  const nested = Array.from({ length: 15_000 }, (_, i) => `{"sub":"spiffe://co.com/agent/a${i}","act":`).join('') + '{"sub":"spiffe://co.com/agent/z"}' + '}'.repeat(15_000);
  const [h, , sig] = (await mint()).split('.') as [string, string, string];
  const { act: _, ...rest } = payloadOf(await mint());
  const huge = `${h}.${Buffer.from(JSON.stringify(rest).slice(0, -1) + ',"act":' + nested + '}').toString('base64url')}.${sig}`;
  assert.ok(huge.length < 1 << 20);
  assertOnly(verify(huge, {}, { maxTokenBytes: 1 << 20 }), 'chain.too_deep@0');
});

test('hostile act claims are refused with reasons that say what is wrong', async () => {
  const withAct = (act: unknown): Promise<string> => mint({ unsafe: { claims: { act } } });
  const cases: Array<[string, unknown, string, RegExp]> = [
    ['a string act', 'spiffe://co.com/agent/scanner', 'token.claims_invalid@0', /act must be a JSON object, not string/],
    ['an array act', [{ sub: d.id('scanner') }], 'token.claims_invalid@0', /act must be a JSON object, not an array/],
    ['a null inner act', { sub: d.id('scanner'), act: null }, 'token.claims_invalid@0', /act\.act must be a JSON object, not null/],
    ['an act with extra claims', { sub: d.id('scanner'), exp: 9999999999, act: { sub: d.id('planner') } }, 'token.claims_invalid@0', /"exp": an act names only sub/],
    ['a human actor', { sub: 'bob@company.com' }, 'token.claims_invalid@0', /act\.sub must be an agent's SPIFFE ID/],
    ['a cycle', nestActors([d.id('planner'), d.id('scanner'), d.id('planner'), d.id('scanner')]), 'chain.principal_misaligned@0', /appears at act and again at act\.act\.act/],
  ];
  for (const [what, act, code, message] of cases) {
    const v = verify(await withAct(act));
    assertOnly(v, code);
    assert.match(v.reasons[0]?.message ?? '', message, what);
  }
  const missing = verify(await mint({ unsafe: { omit: ['act'] } }));
  assertOnly(missing, 'token.claims_invalid@0');
  const bad = verify(await mint({ unsafe: { claims: { may_act: { sub: d.id('rogue') }, scope: ['cloud:read'] } } }));
  assert.match(bad.reasons[0]?.message ?? '', /unknown claim "may_act".*scope must be a space-separated string/);
  assertOnly(verify(await mint({ human: d.id('rogue'), unsafe: { skipChecks: true } })), 'chain.root_invalid@0');
});

test('an exchange token is one token: inside a chain of links it is malformed', async () => {
  const links = await standardChain(d, { now: NOW, depth: 1 });
  const mixed = verifier().verifySpan(spanFor([...links, await mint()], { startMs: AT })) as Verdict;
  assert.ok(mixed.reasons.some((r) => r.code === 'token.malformed' && r.link === 1 && /typ must be "chainsight-delegation\+jwt"/.test(r.message)), JSON.stringify(mixed.reasons));
});

test('readExchangeClaims walks act without recursion and keeps the order first actor → current actor', () => {
  const r = readExchangeClaims({ iss: 'sts', sub: HUMAN, scope: 'a b', iat: 1, exp: 2, jti: 'j', task: 't', act: nestActors(actors) }, 5, 60);
  assert.ok(r.ok);
  assert.deepEqual(r.claims.actors, actors);
  assert.equal(r.claims.nbf, 1);
  const flat = readExchangeClaims({ iss: 'sts', sub: HUMAN, scope: 'a', iat: 10, nbf: 10, exp: 10, jti: 'j', task: 't', act: { sub: actors[0] } }, 5, 60);
  assert.ok(!flat.ok);
  assert.match(flat.reasons[0]?.message ?? '', /exp must be after nbf/);
});
