/**
 * Turns a corpus case into an engine input: links from its hops, signed
 * approvals minted with real keys of two trust domains (acme.example and
 * partner.example, bundles on disk) and verified against that trust store.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VerifiedLink } from '../../src/model/delegation.js';
import { mintApproval, verifyApprovals } from '../../src/policy/approval.js';
import type { ChainPolicyInput, PolicyDecision } from '../../src/policy/types.js';
import { TrustStore } from '../../src/verify/trust-store.js';
import { makeTrustDomain, type TestDomain } from '../support/keys.js';
import { chainOf, T0 } from '../support/policy-fixtures.js';
import type { CorpusCase } from './cases.js';

export interface CorpusKeys {
  acme: TestDomain;
  partner: TestDomain;
  trust: TrustStore;
  cleanup(): Promise<void>;
}

export async function corpusKeys(): Promise<CorpusKeys> {
  const dir = await mkdtemp(join(tmpdir(), 'policy-corpus-'));
  const acme = await makeTrustDomain({ trustDomain: 'acme.example', agents: ['planning'], dir });
  const partner = await makeTrustDomain({ trustDomain: 'partner.example', agents: [], dir });
  return { acme, partner, trust: await TrustStore.fromDirectory(dir), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function buildCase(c: CorpusCase, k: CorpusKeys): Promise<{ input: unknown; isAction: boolean }> {
  const chain: ChainPolicyInput = chainOf(c.chain, c.depth === undefined ? {} : { depth: c.depth });
  const tokens: string[] = [];
  for (const s of c.signed ?? []) {
    const key = s.signer === 'authz' ? k.acme.authz : s.signer === 'partner-authz' ? k.partner.authz : k.acme.agents.planning!;
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
  chain.approvals = verifyApprovals(tokens, chain.links as unknown as VerifiedLink[], k.trust);
  const built = c.action ? { ...chain, action: { agent: c.action.agent ?? chain.links[chain.links.length - 1]!.sub, scopes: c.action.scopes, atMs: (T0 + (c.action.atSec ?? 60)) * 1000 } } : chain;
  const input = c.raw ? c.raw(built as unknown as Record<string, unknown>) : built;
  return { input, isAction: typeof input === 'object' && input !== null && 'action' in input };
}

/** A decision as the corpus states expectations: verdict and sorted `code@link`. */
export function outcome(d: PolicyDecision): { result: string; reasons: string[] } {
  return { result: d.result, reasons: [...new Set(d.reasons.map((r) => `${r.code}@${r.link ?? '-'}`))].sort() };
}

export function expected(c: CorpusCase): { result: string; reasons: string[] } {
  return { result: c.expect.result, reasons: [...c.expect.reasons].sort() };
}
