/**
 * Runs the adversarial corpus (test/policy-corpus/cases.ts) under the shipped
 * policy: each case's verdict and reasons must be exactly as expected.
 * Signed approvals are minted with real keys of two trust domains and
 * verified against a trust store loaded from disk.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VerifiedLink } from '../../src/model/delegation.js';
import { mintApproval, verifyApprovals } from '../../src/policy/approval.js';
import { evaluateAction, evaluateChain } from '../../src/policy/engine.js';
import type { ChainPolicyInput } from '../../src/policy/types.js';
import { TrustStore } from '../../src/verify/trust-store.js';
import { CASES, type CorpusCase } from '../policy-corpus/cases.js';
import { makeTrustDomain, type TestDomain } from '../support/keys.js';
import { chainOf, shippedPolicy, T0 } from '../support/policy-fixtures.js';

const policy = shippedPolicy();
let dir: string;
let acme: TestDomain;
let partner: TestDomain;
let trust: TrustStore;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'policy-corpus-'));
  acme = await makeTrustDomain({ trustDomain: 'acme.example', agents: ['planning'], dir });
  partner = await makeTrustDomain({ trustDomain: 'partner.example', agents: [], dir });
  trust = await TrustStore.fromDirectory(dir);
});
after(() => rm(dir, { recursive: true, force: true }));

async function build(c: CorpusCase): Promise<unknown> {
  const chain: ChainPolicyInput = chainOf(c.chain, c.depth === undefined ? {} : { depth: c.depth });
  const tokens: string[] = [];
  for (const s of c.signed ?? []) {
    const key = s.signer === 'authz' ? acme.authz : s.signer === 'partner-authz' ? partner.authz : acme.agents.planning!;
    let t = await mintApproval({ key, approver: 'carol@acme.example', link: chain.links[s.bindTo ?? s.link]!.hash, scope: s.scope, ttlSec: s.ttlSec ?? 3600, now: (T0 + (s.issuedAt ?? -60)) * 1000 });
    if (s.tamper) {
      const [h, p, sig] = t.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as { scope: string[] };
      claims.scope = ['pii:*'];
      t = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}`;
    }
    tokens.push(t);
  }
  // verifyApprovals reads only each link's hash and trust domain.
  chain.approvals = verifyApprovals(tokens, chain.links as unknown as VerifiedLink[], trust);
  const built = c.action ? { ...chain, action: { agent: c.action.agent ?? chain.links[chain.links.length - 1]!.sub, scopes: c.action.scopes, atMs: (T0 + (c.action.atSec ?? 60)) * 1000 } } : chain;
  return c.raw ? c.raw(built as unknown as Record<string, unknown>) : built;
}

test('the corpus has at least 40 named attacks and unique names', () => {
  assert.ok(CASES.filter((c) => c.attack !== 'none').length >= 40);
  assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length);
});

describe('adversarial corpus', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      const input = await build(c);
      const withAction = c.action !== undefined || (typeof input === 'object' && input !== null && 'action' in input);
      const d = withAction ? evaluateAction(policy, input as never) : evaluateChain(policy, input as never);
      const got = [...new Set(d.reasons.map((r) => `${r.code}@${r.link ?? '-'}`))].sort();
      assert.deepEqual({ result: d.result, reasons: got }, { result: c.expect.result, reasons: [...c.expect.reasons].sort() }, `${c.attack}: ${JSON.stringify(d.reasons)}`);
    });
  }
});
