/**
 * Every verification rule with a passing and a failing case, on real
 * jose-signed links with keys in a temp directory.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReasonCode, Verdict } from '../../src/model/verdict.js';
import type { SigningKey } from '../../src/sdk/keys.js';
import { mintChild, mintRoot } from '../../src/sdk/mint.js';
import { ChainVerifier } from '../../src/verify/chain-verifier.js';
import { defaultPolicy, type VerifyPolicy } from '../../src/verify/policy.js';
import { TOKEN_TYPE, tokenHash } from '../../src/verify/token.js';
import type { TrustStore } from '../../src/verify/trust-store.js';
import { HUMAN, INVENTORY_SCOPE, TASK, makeTrustDomain, spanFor, standardChain, type TestDomain } from '../support/keys.js';

const NOW = Math.floor(Date.now() / 1000) * 1000;
const AT = NOW + 1000; // span start: one second after minting

let d: TestDomain;
let other: TestDomain; // a second trust domain, loaded in the same trust dir
let alien: TestDomain; // a trust domain whose bundle is NOT trusted
let trust: TrustStore;
let good: string[];

before(async () => {
  d = await makeTrustDomain();
  other = await makeTrustDomain({ trustDomain: 'partner.org', agents: ['analytics'], dir: d.dir });
  alien = await makeTrustDomain({ trustDomain: 'evil.net', agents: ['planner'] });
  trust = await d.trust();
  good = await standardChain(d, { now: NOW });
});
after(async () => {
  await d.cleanup();
  await alien.cleanup();
});

function verifier(p: Partial<VerifyPolicy> = {}): ChainVerifier {
  return new ChainVerifier(trust, { ...defaultPolicy(), ...p });
}
function verify(chain: string[] | null, over: Parameters<typeof spanFor>[1] = {}, p: Partial<VerifyPolicy> = {}): Verdict {
  return verifier(p).verifySpan(spanFor(chain, { startMs: AT, ...over })) as Verdict;
}
function codes(v: Verdict): string[] {
  return v.reasons.map((r) => (r.link === undefined ? r.code : `${r.code}@${r.link}`));
}
function assertOnly(v: Verdict, ...expected: string[]): void {
  assert.equal(v.status, 'failed', 'expected a failed verdict');
  assert.deepEqual(codes(v).sort(), [...expected].sort(), JSON.stringify(v.reasons, null, 1));
}
function assertHas(v: Verdict, code: ReasonCode, link?: number): void {
  assert.ok(
    v.reasons.some((r) => r.code === code && r.link === link),
    `expected ${code}${link === undefined ? '' : '@' + link} in ${JSON.stringify(codes(v))}`,
  );
}
const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const decode = (t: string): Record<string, unknown> => JSON.parse(Buffer.from(t.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;
const key = (name: string): SigningKey => d.agents[name] as SigningKey;
const root = (): Promise<string[]> => standardChain(d, { now: NOW, depth: 1 });

test('a sound 3-link chain verifies, with its links and summary', () => {
  const v = verifier();
  const verdict = v.verifySpan(spanFor(good, { startMs: AT })) as Verdict;
  assert.deepEqual(verdict, { status: 'verified', reasons: [] });
  const check = v.check(good);
  assert.ok(!(check instanceof Promise));
  assert.equal(check.links.length, 3);
  assert.equal(check.links[1]?.claims.prf, tokenHash(good[0] as string));
  const s = v.summarize(check);
  assert.equal(s.rootHuman, HUMAN);
  assert.equal(s.purpose, 'quarterly infrastructure review');
  assert.deepEqual(s.path, [HUMAN, d.id('planner'), d.id('inventory'), d.id('scanner')]);
  assert.equal(s.delegator, d.id('inventory'));
  assert.deepEqual(s.grantedScopes, INVENTORY_SCOPE);
  assert.equal(s.rootIssuedAtMs, NOW);
  assert.equal(s.linkHashes.length, 3);
});

describe('token', () => {
  test('token.too_large', async () => {
    const big = await mintRoot({ authzKey: d.authz, human: HUMAN, agent: d.id('scanner'), scope: ['cloud:read'], task: TASK, purpose: 'x'.repeat(1000), ttlSec: 600, now: NOW });
    assert.equal(verify(big).status, 'verified');
    assertOnly(verify(big, {}, { maxTokenBytes: 1000 }), 'token.too_large@0');
  });

  test('token.malformed: not a JWS, bad base64, wrong typ, non-canonical signature', async () => {
    const [r0] = await root();
    assertOnly(verify(['not-a-jws']), 'token.malformed@0');
    assertOnly(verify(['a.b.c.d']), 'token.malformed@0');
    assertOnly(verify(['e30.e30.!!']), 'token.malformed@0');
    const typed = await mintRoot({ authzKey: d.authz, human: HUMAN, agent: d.id('planner'), scope: ['a'], task: TASK, ttlSec: 60, now: NOW, unsafe: { header: { typ: 'JWT' } } });
    assertOnly(verify(typed, { agentId: d.id('planner'), scopesUsed: ['a'] }), 'token.malformed@0');
    // Flip the spare low bits of the last signature character: same bytes, other text.
    const sig = (r0 as string).split('.')[2] as string;
    const last = sig[sig.length - 1] as string;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const alt = alphabet[alphabet.indexOf(last) ^ 1] as string;
    const mangled = (r0 as string).slice(0, -1) + alt;
    assertOnly(verify([mangled], { agentId: d.id('planner'), scopesUsed: ['cloud:read'] }), 'token.malformed@0');
  });

  test('a malformed middle link does not cascade into checks that need it', () => {
    const v = verify([good[0] as string, 'garbage', good[2] as string]);
    // Link 2's prf cannot match the garbage; nothing about alignment, scope or time against it.
    assertOnly(v, 'token.malformed@1', 'chain.parent_mismatch@2');
  });

  test('token.claims_invalid: schema (missing exp, unknown claim, non-SPIFFE sub) and cross-field rules', async () => {
    const base = { authzKey: d.authz, human: HUMAN, agent: d.id('planner'), scope: ['cloud:read'], task: TASK, ttlSec: 600, now: NOW };
    const span = { agentId: d.id('planner') };
    assertOnly(verify(await mintRoot({ ...base, unsafe: { omit: ['exp'] } }), span), 'token.claims_invalid@0');
    assertOnly(verify(await mintRoot({ ...base, unsafe: { claims: { admin: true } } }), span), 'token.claims_invalid@0');
    assertOnly(verify(await mintRoot({ ...base, unsafe: { claims: { sub: 'planner' }, skipChecks: true } }), span), 'token.claims_invalid@0');
    assertOnly(verify(await mintRoot({ ...base, unsafe: { claims: { scope: ['ec2:*Describe'] } } }), span), 'token.claims_invalid@0');
    assertOnly(verify(await mintRoot({ ...base, unsafe: { claims: { nbf: NOW / 1000 - 3600 } } }), span), 'token.claims_invalid@0');
    const [r] = await root();
    const child = await mintChild({ parentChain: [r as string], signerKey: key('planner'), delegatee: d.id('inventory'), scope: ['cloud:read'], now: NOW, unsafe: { claims: { purpose: 'sneaky' } } });
    assertOnly(verify(child, { agentId: d.id('inventory') }), 'token.claims_invalid@1');
  });
});

describe('signature', () => {
  test('signature.algorithm_forbidden: none, HS256 with the public key as secret, and a policy allowlist', async () => {
    const claims = decode(good[0] as string);
    const noneTok = `${b64({ alg: 'none', kid: d.authz.kid, typ: TOKEN_TYPE })}.${b64(claims)}.`;
    assertOnly(verify([noneTok], { agentId: d.id('planner') }), 'signature.algorithm_forbidden@0');
    const hsInput = `${b64({ alg: 'HS256', kid: d.authz.kid, typ: TOKEN_TYPE })}.${b64(claims)}`;
    const pubBundle = (await import('node:fs')).readFileSync(join(d.dir, 'co.com.jwks.json'));
    const hsTok = `${hsInput}.${createHmac('sha256', pubBundle).update(hsInput).digest('base64url')}`;
    assertOnly(verify([hsTok], { agentId: d.id('planner') }), 'signature.algorithm_forbidden@0');
    // Allowed by default, forbidden by a narrower allowlist.
    const v = verify(good, {}, { algorithms: ['ES256'] });
    assertOnly(v, 'signature.algorithm_forbidden@0', 'signature.algorithm_forbidden@1', 'signature.algorithm_forbidden@2');
  });

  test('signature.unknown_trust_domain: an agent of an untrusted domain, and a root for it', async () => {
    const [r] = await root();
    // planner hands off to an evil.net agent (allowed hop), which then delegates: its key is in no trusted bundle.
    const toAlien = await mintChild({ parentChain: [r as string], signerKey: key('planner'), delegatee: alien.id('planner'), scope: ['cloud:read'], now: NOW });
    assert.equal(verify(toAlien, { agentId: alien.id('planner') }).status, 'verified');
    const fromAlien = await mintChild({ parentChain: toAlien, signerKey: alien.agents.planner as SigningKey, delegatee: d.id('scanner'), scope: ['cloud:read'], now: NOW });
    assertOnly(verify(fromAlien), 'signature.unknown_trust_domain@2');
    const alienRoot = await mintRoot({ authzKey: alien.authz, human: HUMAN, agent: alien.id('planner'), scope: ['*'], task: TASK, ttlSec: 60, now: NOW });
    assertOnly(verify(alienRoot, { agentId: alien.id('planner') }), 'signature.unknown_trust_domain@0');
  });

  test('a second trusted domain verifies its own agents; bundles are never merged', async () => {
    const [r] = await root();
    const toPartner = await mintChild({ parentChain: [r as string], signerKey: key('planner'), delegatee: other.id('analytics'), scope: ['cloud:read'], now: NOW });
    const fromPartner = await mintChild({ parentChain: toPartner, signerKey: other.agents.analytics as SigningKey, delegatee: d.id('scanner'), scope: ['cloud:read'], now: NOW });
    assert.equal(verify(fromPartner).status, 'verified');
    // A partner.org key presented for a co.com issuer is looked up in co.com's bundle only.
    const confused = await mintChild({ parentChain: [r as string], signerKey: other.agents.analytics as SigningKey, delegatee: d.id('scanner'), scope: ['cloud:read'], now: NOW, unsafe: { claims: { iss: d.id('planner') }, skipChecks: true } });
    assertOnly(verify(confused), 'signature.unknown_key@1');
  });

  test('signature.unknown_key', async () => {
    const chain = await mintChild({ parentChain: await root(), signerKey: key('planner'), delegatee: d.id('scanner'), scope: ['cloud:read'], now: NOW, unsafe: { header: { kid: 'no-such-kid' } } });
    assertOnly(verify(chain), 'signature.unknown_key@1');
  });

  test('signature.key_not_bound: an agent signing for another agent, an agent key signing a root, the authz key signing a child', async () => {
    const r = await root();
    // rogue's genuine key, claiming to be planner.
    const impersonation = await mintChild({ parentChain: r, signerKey: key('rogue'), delegatee: d.id('scanner'), scope: ['cloud:read'], now: NOW, unsafe: { claims: { iss: d.id('planner') }, skipChecks: true } });
    assertOnly(verify(impersonation), 'signature.key_not_bound@1');
    // planner forging a human's authorization for itself.
    const forgedRoot = await mintRoot({ authzKey: key('planner'), human: HUMAN, agent: d.id('scanner'), scope: ['*'], task: TASK, ttlSec: 600, now: NOW, unsafe: { skipChecks: true } });
    assertOnly(verify(forgedRoot), 'signature.key_not_bound@0');
    const byAuthz = await mintChild({ parentChain: r, signerKey: d.authz, delegatee: d.id('scanner'), scope: ['cloud:read'], now: NOW, unsafe: { claims: { iss: d.id('planner') }, skipChecks: true } });
    assertOnly(verify(byAuthz), 'signature.key_not_bound@1');
  });

  test('signature.algorithm_mismatch: a header alg the bundle key does not serve', () => {
    // The agent's Ed25519 key (JWK alg EdDSA) named with ES256, an allowed algorithm: its key is never tried.
    const [h, p, s] = (good[2] as string).split('.') as [string, string, string];
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
    const renamed = `${b64({ ...header, alg: 'ES256' })}.${p}.${s}`;
    assertOnly(verify([good[0] as string, good[1] as string, renamed]), 'signature.algorithm_mismatch@2');
    assert.equal(verify(good).status, 'verified');
  });

  test("signature.algorithm_mismatch: a JWK's alg narrows its RSA key, even for a sound signature", async () => {
    const { exportJWK, generateKeyPair, importJWK } = await import('jose');
    const { TrustStore } = await import('../../src/verify/trust-store.js');
    const pair = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
    const pub = { ...(await exportJWK(pair.publicKey)), kid: 'rsa-1', chainsight_role: 'authorization' };
    const priv = await exportJWK(pair.privateKey);
    const signer = (alg: string) => importJWK(priv, alg).then((key) => ({ kid: 'rsa-1', alg, trustDomain: 'co.com', role: 'authorization', key: key as never }));
    const base = { human: HUMAN, agent: d.id('scanner'), scope: ['cloud:read'], task: TASK, ttlSec: 600, now: NOW };
    const ps = await mintRoot({ ...base, authzKey: await signer('PS256') });
    const rs = await mintRoot({ ...base, authzKey: await signer('RS256') });
    const check = async (jwk: object, chain: string[]) => new ChainVerifier(await TrustStore.fromBundles({ 'co.com': { keys: [jwk] } }), defaultPolicy()).verifySpan(spanFor(chain, { startMs: AT })) as Verdict;
    // Without an alg member the RSA key serves both; pinned to RS256 it refuses PS256.
    assert.equal((await check(pub, ps)).status, 'verified');
    assert.equal((await check({ ...pub, alg: 'RS256' }, rs)).status, 'verified');
    assertOnly(await check({ ...pub, alg: 'RS256' }, ps), 'signature.algorithm_mismatch@0');
  });

  test('signature.invalid: a tampered payload', () => {
    const [h, p, s] = (good[2] as string).split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    claims.scope = ['cloud:list'];
    const tampered = `${h}.${b64(claims)}.${s}`;
    assertOnly(verify([good[0] as string, good[1] as string, tampered], { scopesUsed: ['cloud:list'] }), 'signature.invalid@2');
  });
});

describe('chain structure', () => {
  test('chain.root_invalid: an agent as root issuer, a root with prf', async () => {
    const agentIssuer = await mintRoot({ authzKey: d.authz, human: d.id('rogue'), agent: d.id('scanner'), scope: ['cloud:read'], task: TASK, ttlSec: 600, now: NOW, unsafe: { skipChecks: true } });
    assertOnly(verify(agentIssuer), 'chain.root_invalid@0');
    const withPrf = await mintRoot({ authzKey: d.authz, human: HUMAN, agent: d.id('scanner'), scope: ['cloud:read'], task: TASK, ttlSec: 600, now: NOW, unsafe: { claims: { prf: tokenHash('x') } } });
    assertOnly(verify(withPrf), 'chain.root_invalid@0');
  });

  test('chain.parent_mismatch: wrong prf, missing prf, and links spliced from another chain', async () => {
    const r = await root();
    const wrongPrf = await mintChild({ parentChain: r, signerKey: key('planner'), delegatee: d.id('scanner'), scope: ['cloud:read'], now: NOW, unsafe: { claims: { prf: tokenHash('other') } } });
    assertOnly(verify(wrongPrf), 'chain.parent_mismatch@1');
    const noPrf = await mintChild({ parentChain: r, signerKey: key('planner'), delegatee: d.id('scanner'), scope: ['cloud:read'], now: NOW, unsafe: { omit: ['prf'] } });
    assertOnly(verify(noPrf), 'chain.parent_mismatch@1');
    // Same people, same task, another authorization: links do not mix.
    const otherChain = await standardChain(d, { now: NOW });
    assertOnly(verify([good[0] as string, otherChain[1] as string, otherChain[2] as string]), 'chain.parent_mismatch@1');
  });

  test('chain.principal_misaligned: an agent extending a chain it was not delegated', async () => {
    const twoLinks = await standardChain(d, { now: NOW, depth: 2 }); // ... → inventory
    const hijack = await mintChild({ parentChain: twoLinks, signerKey: key('rogue'), delegatee: d.id('scanner'), scope: ['cloud:read'], now: NOW, unsafe: { skipChecks: true } });
    assertOnly(verify(hijack), 'chain.principal_misaligned@2');
  });

  test('chain.task_mismatch', async () => {
    const r = await root();
    const retasked = await mintChild({ parentChain: r, signerKey: key('planner'), delegatee: d.id('scanner'), scope: ['cloud:read'], now: NOW, unsafe: { claims: { task: 'task-other' } } });
    assertOnly(verify(retasked), 'chain.task_mismatch@1');
  });

  test('scope.escalated: a child granting more than its parent holds', async () => {
    const two = await standardChain(d, { now: NOW, depth: 2 }); // inventory holds cloud:read, cloud:list, reports:write
    const launder = await mintChild({ parentChain: two, signerKey: key('inventory'), delegatee: d.id('scanner'), scope: ['cloud:read', 'iam:*'], now: NOW, unsafe: { skipChecks: true } });
    assertOnly(verify(launder), 'scope.escalated@2');
  });

  test('scope implications count towards diminishment', async () => {
    const implications = { 'infrastructure:review': ['cloud:read'], 'cloud:read': ['ec2:Describe*'] };
    const r = await mintRoot({ authzKey: d.authz, human: HUMAN, agent: d.id('planner'), scope: ['infrastructure:review'], task: TASK, ttlSec: 600, now: NOW });
    const c = await mintChild({ parentChain: r, signerKey: key('planner'), delegatee: d.id('scanner'), scope: ['ec2:Describe*'], now: NOW, implications });
    assert.equal(verify(c, { scopesUsed: ['ec2:DescribeInstances'] }, { implications }).status, 'verified');
    assertOnly(verify(c, { scopesUsed: ['ec2:DescribeInstances'] }), 'scope.escalated@1');
  });

  test('time.outlives_parent', async () => {
    const r = await root(); // exp NOW+7200
    const longer = await mintChild({ parentChain: r, signerKey: key('planner'), delegatee: d.id('scanner'), scope: ['cloud:read'], now: NOW, unsafe: { claims: { exp: NOW / 1000 + 7260 } } });
    assertOnly(verify(longer), 'time.outlives_parent@1');
  });

  test('time.lifetime_exceeded', async () => {
    const long = await mintRoot({ authzKey: d.authz, human: HUMAN, agent: d.id('scanner'), scope: ['cloud:read'], task: TASK, ttlSec: 5 * 3600, now: NOW });
    assertOnly(verify(long), 'time.lifetime_exceeded@0');
    assert.equal(verify(long, {}, { maxLifetimeSec: 6 * 3600 }).status, 'verified');
  });

  test('chain.too_deep', () => {
    assertOnly(verify(good, {}, { maxDepth: 2 }), 'chain.too_deep@2');
    assert.equal(verify(good, {}, { maxDepth: 3 }).status, 'verified');
  });

  test('chain.missing and chain.malformed come from the span', () => {
    assertOnly(verify(null), 'chain.missing');
    assertOnly(verify([]), 'chain.missing');
    assertOnly(verify(null, { chainError: { code: 'chain.malformed', message: 'chainsight.delegation.chain is an int' } }), 'chain.malformed');
  });

  test('all reasons are reported, not just the first', async () => {
    const r = await root();
    const bad = await mintChild({ parentChain: r, signerKey: key('planner'), delegatee: d.id('scanner'), scope: ['admin:*'], now: NOW, unsafe: { claims: { exp: NOW / 1000 + 9000, task: 'elsewhere' }, skipChecks: true } });
    assertOnly(verify(bad, { scopesUsed: ['admin:root'] }), 'scope.escalated@1', 'time.outlives_parent@1', 'chain.task_mismatch@1');
  });
});

describe('span against its chain', () => {
  test('time.not_yet_valid and time.expired, with clock skew', async () => {
    assert.equal(verify(good, { startMs: NOW - 30_000 }).status, 'verified'); // within 60 s skew
    const early = verify(good, { startMs: NOW - 10 * 60_000 });
    assertOnly(early, 'time.not_yet_valid@0', 'time.not_yet_valid@1', 'time.not_yet_valid@2');
    // scanner's link expires first (30 min); later the others follow.
    assertOnly(verify(good, { startMs: NOW + 1800_000 + 61_000 }), 'time.expired@2');
    assertOnly(verify(good, { startMs: NOW + 7200_000 + 61_000 }), 'time.expired@0', 'time.expired@1', 'time.expired@2');
  });

  test('span.start_missing: a span without a usable start time fails closed', () => {
    // A real (if absurd) time is judged against the links; no time at all is its own failure.
    assertOnly(verify(good, { startMs: 1 }), 'time.not_yet_valid@0', 'time.not_yet_valid@1', 'time.not_yet_valid@2');
    for (const startMs of [0, Number.NaN, Number.POSITIVE_INFINITY, -1]) assertOnly(verify(good, { startMs }), 'span.start_missing');
    assertOnly(verify(null, { startMs: 0 }), 'chain.missing', 'span.start_missing');
  });

  test('agent.missing and agent.mismatch', () => {
    assertOnly(verify(good, { agentId: '' }), 'agent.missing');
    assertOnly(verify(good, { agentId: d.id('rogue') }), 'agent.mismatch');
  });

  test('task.missing and task.mismatch (replay for another task)', () => {
    assertOnly(verify(good, { taskId: '' }), 'task.missing');
    assertOnly(verify(good, { taskId: 'task-99999' }), 'task.mismatch');
  });

  test('scope.exceeded', () => {
    assertOnly(verify(good, { scopesUsed: ['cloud:read', 'cloud:delete'] }), 'scope.exceeded');
    assert.equal(verify(good, { scopesUsed: ['ec2:DescribeInstances'] }, { implications: { 'cloud:read': ['ec2:Describe*'] } }).status, 'verified');
  });

  test('scope.undeclared: a tool call that names no scope fails closed', () => {
    assertOnly(verify(good, { scopesUsed: [] }), 'scope.undeclared');
    assert.equal(verify(good, { scopesUsed: [], operation: 'invoke_agent' }).status, 'verified');
  });

  test('verifyDetailed gives verdict, summary, chain key and check', () => {
    const v = verifier();
    const r = v.verifyDetailed(spanFor(good, { startMs: AT }));
    assert.equal(r.verdict.status, 'verified');
    assert.equal(r.summary?.depth, 3);
    assert.ok(r.chainHash.length > 0);
    assert.equal(r.check?.links.length, 3);
    const none = v.verifyDetailed(spanFor(null, { startMs: AT }));
    assert.deepEqual([none.summary, none.chainHash, none.check], [null, '', null]);
    assert.equal(none.verdict.reasons[0]?.code, 'chain.missing');
  });
});
