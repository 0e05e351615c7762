/**
 * Test helper: engine inputs written compactly. `chainOf` builds an aligned
 * chain (each issuer is the previous delegatee) from hops, `act` adds an
 * action by the last delegatee; the shipped policy is `shippedPolicy()`.
 */
import { readFileSync } from 'node:fs';
import { parsePolicy } from '../../src/policy/loader.js';
import type { CompiledPolicy } from '../../src/policy/compile.js';
import type { ActionPolicyInput, ChainPolicyInput, PolicyApproval, PolicyLink } from '../../src/policy/types.js';

export const T0 = 1_790_000_000;
export const HUMAN = 'alice@acme.example';
export const A = (type: string, inst = 'i1', td = 'acme.example') => `spiffe://${td}/agent/${type}/${inst}`;

export interface Hop {
  sub: string;
  scope: string[];
  /** exp − iat, default 1800. */
  life?: number;
  /** Override the issuer (default: previous delegatee, or HUMAN at the root). */
  iss?: string;
}

export function chainOf(hops: Hop[], extra: { depth?: number; approvals?: PolicyApproval[] } = {}): ChainPolicyInput {
  const links: PolicyLink[] = hops.map((h, i) => ({
    iss: h.iss ?? (i === 0 ? HUMAN : hops[i - 1]!.sub),
    sub: h.sub,
    scope: h.scope,
    iat: T0,
    nbf: T0,
    exp: T0 + (h.life ?? 1800),
    hash: `hash-${i}-${h.sub}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 43).padEnd(43, '0'),
    trustDomain: 'acme.example',
  }));
  return { depth: extra.depth ?? links.length, links, approvals: extra.approvals ?? [] };
}

export function act(c: ChainPolicyInput, scopes: string[], over: Partial<ActionPolicyInput['action']> = {}): ActionPolicyInput {
  return { ...c, action: { agent: c.links[c.links.length - 1]!.sub, scopes, atMs: (T0 + 60) * 1000, ...over } };
}

export function approval(c: ChainPolicyInput, link: number, scope: string[], over: Partial<PolicyApproval> = {}): PolicyApproval {
  return { hash: `appr-${link}`, verified: true, error: '', linkHash: c.links[link]!.hash, approver: 'carol@acme.example', scope, iat: T0 - 60, exp: T0 + 3600, ...over };
}

export function shippedPolicy(): CompiledPolicy {
  return parsePolicy(readFileSync(new URL('../../policies/default.yaml', import.meta.url), 'utf8'), 'policies/default.yaml');
}

/** The standard healthy chain: alice → planning → cloud-inventory → cloud-inventory (reader). */
export function healthy(): ChainPolicyInput {
  return chainOf([
    { sub: A('planning'), scope: ['infrastructure:review'], life: 3600 },
    { sub: A('cloud-inventory'), scope: ['cloud:read'] },
    { sub: A('cloud-inventory', 'i2'), scope: ['ec2:Describe*'], life: 900 },
  ]);
}
