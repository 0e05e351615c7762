/**
 * Approval tokens with real keys: an approval signed by the trust domain's
 * authorization key and bound to the exact link passes; one signed by an
 * agent key, bound to another link, edited, or of the wrong type fails with
 * its reason. End to end: a chain minted by the SDK, verified by the
 * ChainVerifier, turned into an engine input by input.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChainVerifier } from '../../src/verify/chain-verifier.js';
import { defaultPolicy } from '../../src/verify/policy.js';
import type { ChainCheck } from '../../src/model/delegation.js';
import type { TrustStore } from '../../src/verify/trust-store.js';
import { tokenHash } from '../../src/verify/token.js';
import { mintChild, mintRoot } from '../../src/sdk/mint.js';
import { mintApproval, parseApproval, verifyApprovals } from '../../src/policy/approval.js';
import { actionInput, approvalTokensOf, chainInput, APPROVALS_ATTRIBUTE } from '../../src/policy/input.js';
import { evaluateAction } from '../../src/policy/engine.js';
import { makeTrustDomain, type TestDomain } from '../support/keys.js';
import { makeSpan } from '../support/spans.js';
import { PolicyEngine } from '../../src/policy/policy-engine.js';
import { SpanPolicy } from '../../src/policy/span-policy.js';
import { shippedPolicy } from '../support/policy-fixtures.js';

const policy = shippedPolicy();
let d: TestDomain;
let other: TestDomain;
let trust: TrustStore;
let chain: string[];
const now = Date.now();

before(async () => {
  d = await makeTrustDomain({ trustDomain: 'acme.example', agents: ['planning', 'cloud-inventory'] });
  other = await makeTrustDomain({ trustDomain: 'acme.example', agents: [] });
  trust = await d.trust();
  chain = await mintRoot({ authzKey: d.authz, human: 'alice@acme.example', agent: d.id('planning'), scope: ['pii:read', 'reports:write'], task: 't1', ttlSec: 3600, now });
  chain = await mintChild({ parentChain: chain, signerKey: d.agents.planning!, delegatee: d.id('cloud-inventory'), scope: ['pii:read'], ttlSec: 1800, now });
});
after(async () => {
  await d.cleanup();
  await other.cleanup();
});

function judge(approvals: string[], atMs = now + 1000) {
  const check = new ChainVerifier(trust, defaultPolicy()).check(chain) as ChainCheck; // synchronous in practice
  assert.deepEqual(check.reasons, []);
  const verified = verifyApprovals(approvals, check.links, trust);
  const input = actionInput(chainInput(check, chain.length, verified), { agentId: d.id('cloud-inventory'), scopesUsed: ['pii:read'], startMs: atMs });
  return { verified, decision: evaluateAction(policy, input), input };
}

const approve = (link: number, over: Partial<Parameters<typeof mintApproval>[0]> = {}) =>
  mintApproval({ key: d.authz, approver: 'carol@acme.example', link: chain[link]!, scope: ['pii:read'], ttlSec: 3600, now, ...over });

test('approvals signed by the authorization key for each sensitive link: allowed; the input holds hashes, never tokens', async () => {
  const { verified, decision, input } = judge([await approve(0), await approve(1)]);
  assert.deepEqual(verified.map((v) => v.error), ['', '']);
  assert.equal(decision.result, 'allow', JSON.stringify(decision.reasons));
  assert.ok(decision.rules.includes('approval.pii'));
  const text = JSON.stringify(input);
  for (const t of chain) assert.ok(!text.includes(t));
  assert.ok(text.includes(tokenHash(chain[1]!)));
});

test('no approval for one of the links: denied at that link', async () => {
  const { decision } = judge([await approve(0)]);
  assert.deepEqual(decision.reasons.map((r) => `${r.code}@${r.link}`), ['policy.approval.pii@1']);
});

test('an approval signed by an agent key fails, saying whose key it is', async () => {
  const { verified, decision } = judge([await approve(0), await approve(1, { key: d.agents.planning! })]);
  assert.match(verified[1]!.error, /not acme\.example's authorization key \(it belongs to agent spiffe:\/\/acme\.example\/agent\/planning\)/);
  assert.deepEqual(decision.reasons.map((r) => `${r.code}@${r.link}`), ['policy.approval.pii@1']);
  assert.match(decision.reasons[0]!.message, /approval rejected/);
});

test('an approval replayed from another link does not count for this one', async () => {
  const forZero = await approve(0);
  const { decision } = judge([forZero, forZero]);
  assert.deepEqual(decision.reasons.map((r) => `${r.code}@${r.link}`), ['policy.approval.pii@1']);
});

test('an approval for a link of another chain names no link here', async () => {
  const { verified } = judge([await approve(0, { link: 'A'.repeat(43) })]);
  assert.equal(verified[0]!.error, 'lnk names no link of this chain');
});

test('an authorization key of another deployment (unknown kid) fails', async () => {
  const { verified } = judge([await approve(1, { key: other.authz })]);
  assert.match(verified[0]!.error, /no key .* in trust domain acme\.example/);
});

test('an edited approval fails its signature; a delegation link is not an approval', async () => {
  const good = await approve(1);
  const [h, p, s] = good.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  claims.scope = ['pii:*'];
  const edited = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
  const { verified } = judge([edited, chain[1]!]);
  assert.match(verified[0]!.error, /signature does not verify/);
  assert.match(verified[1]!.error, /typ must be chainsight-approval\+jwt/);
});

test('approval scope is compared exactly: PII:* does not approve pii:read', async () => {
  const { decision } = judge([await approve(0), await approve(1, { scope: ['PII:*'] })]);
  assert.deepEqual(decision.reasons.map((r) => `${r.code}@${r.link}`), ['policy.approval.pii@1']);
});

test('an approval expired at the action time fails', async () => {
  const { decision } = judge([await approve(0), await approve(1, { ttlSec: 60 })], now + 120_000);
  assert.deepEqual(decision.reasons.map((r) => `${r.code}@${r.link}`), ['policy.approval.pii@1']);
});

test('parseApproval refuses SPIFFE approvers, unknown claims and junk; approvalTokensOf fails closed', () => {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const hdr = enc({ alg: 'EdDSA', kid: 'k', typ: 'chainsight-approval+jwt' });
  const base = { iss: 'carol@acme.example', lnk: 'A'.repeat(43), scope: ['pii:read'], iat: 1, exp: 2, jti: 'j' };
  assert.equal(parseApproval(`${hdr}.${enc(base)}.AAAA`).ok, true);
  assert.match((parseApproval(`${hdr}.${enc({ ...base, iss: 'spiffe://acme.example/agent/planning' })}.AAAA`) as { error: string }).error, /human/);
  assert.match((parseApproval(`${hdr}.${enc({ ...base, act: 'x' })}.AAAA`) as { error: string }).error, /unknown claims act/);
  assert.equal(parseApproval('x.y').ok, false);
  assert.equal(parseApproval(7 as never).ok, false);
  assert.deepEqual(approvalTokensOf({ attributes: { [APPROVALS_ATTRIBUTE]: '["a", 3, "b"]' } }), ['a', 'b']);
  assert.deepEqual(approvalTokensOf({ attributes: { [APPROVALS_ATTRIBUTE]: '{"a":1}' } }), []);
  assert.deepEqual(approvalTokensOf({ attributes: { [APPROVALS_ATTRIBUTE]: 'not json' } }), []);
});

test('SpanPolicy: a span carrying its approvals is allowed, the same span without them denied', async () => {
  const engine = new PolicyEngine(policy);
  const sp = new SpanPolicy(engine, trust);
  const check = new ChainVerifier(trust, defaultPolicy()).check(chain) as ChainCheck;
  const approvals = JSON.stringify([await approve(0), await approve(1)]);
  const span = makeSpan({ chain, agentId: d.id('cloud-inventory'), scopesUsed: ['pii:read'], startMs: now + 1000, attributes: { [APPROVALS_ATTRIBUTE]: approvals } });
  assert.equal(sp.decide(span, check)?.result, 'allow');
  assert.equal(sp.decide(span, check)?.result, 'allow');
  const bare = makeSpan({ chain, agentId: d.id('cloud-inventory'), scopesUsed: ['pii:read'], startMs: now + 1000 });
  assert.deepEqual(sp.decide(bare, check)?.reasons.map((r) => `${r.code}@${r.link}`), ['policy.approval.pii@0', 'policy.approval.pii@1']);
  assert.equal(sp.decide(makeSpan({ chain: null }), null), null);
});
