/**
 * Adversarial corpus for the policy engine, judged under policies/default.yaml.
 * Each case is a named attack (or a control that must stay allowed) with the
 * verdict and reasons expected, as `policy.<rule>@<link>` (`-` for none).
 * `signed` approvals are minted with real keys by the runner
 * (test/unit/policy-corpus.test.ts) and verified against the trust store.
 */
import type { Hop } from '../support/policy-fixtures.js';
import { A, HUMAN, T0 } from '../support/policy-fixtures.js';

export interface SignedApproval {
  /** Who signs: the acme authorization key, the planning agent's key, partner.example's authorization key. */
  signer: 'authz' | 'planning-agent' | 'partner-authz';
  /** The link whose sensitive scope it is meant to approve. */
  link: number;
  /** The link it is actually bound to (default: `link`). */
  bindTo?: number;
  scope: string[];
  ttlSec?: number;
  /** Seconds from T0 (default −60). */
  issuedAt?: number;
  /** Edit the claims after signing. */
  tamper?: boolean;
}

export interface CorpusCase {
  name: string;
  attack: string;
  chain: Hop[];
  /** Links the span carried (default: chain length). */
  depth?: number;
  action?: { scopes: string[]; agent?: string; atSec?: number };
  signed?: SignedApproval[];
  /** A raw input replacing the built one (shape attacks). */
  raw?: (built: Record<string, unknown>) => unknown;
  expect: { result: 'allow' | 'deny'; reasons: string[] };
}

const P = A('planning');
const INV = A('cloud-inventory');
const ok = (): Hop[] => [
  { sub: P, scope: ['infrastructure:review'], life: 3600 },
  { sub: INV, scope: ['cloud:read'] },
];
const deny = (...reasons: string[]) => ({ result: 'deny' as const, reasons });
const allow = { result: 'allow' as const, reasons: [] };
/** A chain whose first delegatee is `sub`. */
const rootTo = (sub: string): Hop[] => [{ sub, scope: ['cloud:read'] }];
/** planning → `sub` (a second link). */
const viaPlanning = (sub: string, scope = ['cloud:read']): Hop[] => [{ sub: P, scope: ['infrastructure:review'], life: 3600 }, { sub, scope }];

export const CASES: CorpusCase[] = [
  // ---- controls: must stay allowed
  { name: 'control: healthy two-link chain', attack: 'none', chain: ok(), action: { scopes: ['ec2:DescribeInstances'] }, expect: allow },
  { name: 'control: allowed crossing into partner analytics', attack: 'none', chain: [{ sub: P, scope: ['billing:read'] }, { sub: A('analytics', 'p1', 'partner.example'), scope: ['billing:read'] }], expect: allow },
  { name: 'control: pii with approvals signed by the authorization key', attack: 'none', chain: [{ sub: P, scope: ['pii:read'] }, { sub: INV, scope: ['pii:read'] }], signed: [{ signer: 'authz', link: 0, scope: ['pii:*'] }, { signer: 'authz', link: 1, scope: ['pii:read'] }], action: { scopes: ['pii:read'] }, expect: allow },

  // ---- agent type: look-alike SPIFFE IDs
  { name: 'type look-alike: capitalised path keyword', attack: '/Agent/ instead of /agent/', chain: rootTo('spiffe://acme.example/Agent/planning/i1'), expect: deny('policy.agent-type.known@0') },
  { name: 'type look-alike: capitalised type', attack: 'Planning is not planning', chain: rootTo(A('Planning')), expect: deny('policy.agent-type.known@0') },
  { name: 'type look-alike: Cyrillic a in the type', attack: 'homoglyph plаnning', chain: rootTo(A('plаnning')), expect: deny('policy.agent-type.known@0') },
  { name: 'type look-alike: percent-encoded letter', attack: 'pl%61nning decodes to planning', chain: rootTo('spiffe://acme.example/agent/pl%61nning/i1'), expect: deny('policy.agent-type.known@0') },
  { name: 'type look-alike: percent-encoded slash', attack: 'one segment posing as two', chain: rootTo('spiffe://acme.example/agent/planning%2Fi1'), expect: deny('policy.agent-type.known@0') },
  { name: 'type look-alike: dot-dot segment', attack: '/agent/x/../planning/i1 normalises to a planning ID', chain: rootTo('spiffe://acme.example/agent/x/../planning'), expect: deny('policy.agent-type.known@0') },
  { name: 'type look-alike: single-dot segment', attack: '/agent/./planning', chain: rootTo('spiffe://acme.example/agent/./planning'), expect: deny('policy.agent-type.known@0') },
  { name: 'type look-alike: empty segment', attack: '/agent//planning', chain: rootTo('spiffe://acme.example/agent//planning'), expect: deny('policy.agent-type.known@0') },
  { name: 'type look-alike: trailing slash', attack: '/agent/planning/i1/', chain: rootTo('spiffe://acme.example/agent/planning/i1/'), expect: deny('policy.agent-type.known@0') },
  { name: 'type look-alike: extra segment', attack: '/agent/planning/i1/sub matches no pattern', chain: rootTo('spiffe://acme.example/agent/planning/i1/sub'), expect: deny('policy.agent-type.known@0') },
  { name: 'type look-alike: plural path keyword', attack: '/agents/planning/i1', chain: rootTo('spiffe://acme.example/agents/planning/i1'), expect: deny('policy.agent-type.known@0') },
  { name: 'type look-alike: upper-case trust domain', attack: 'ACME.example', chain: rootTo('spiffe://ACME.example/agent/planning/i1'), expect: deny('policy.agent-type.known@0') },
  { name: 'type look-alike: upper-case scheme', attack: 'SPIFFE://', chain: rootTo('SPIFFE://acme.example/agent/planning/i1'), expect: deny('policy.agent-type.known@0') },
  { name: 'type look-alike: trailing whitespace', attack: 'planning/i1 plus a space', chain: rootTo(A('planning') + ' '), expect: deny('policy.agent-type.known@0') },
  { name: 'type look-alike: NUL byte', attack: 'C-string truncation', chain: rootTo(A('planning') + '\u0000x'), expect: deny('policy.agent-type.known@0') },
  { name: 'type look-alike: fullwidth solidus', attack: '／ (U+FF0F) as a separator', chain: rootTo('spiffe://acme.example/agent／planning/i1'), expect: deny('policy.agent-type.known@0') },
  { name: 'type look-alike: query string', attack: '?type=planning', chain: rootTo('spiffe://acme.example/agent/planning/i1?x=1'), expect: deny('policy.agent-type.known@0') },
  { name: 'type look-alike: userinfo in authority', attack: 'planning@acme.example', chain: rootTo('spiffe://planning@acme.example/agent/planning/i1'), expect: deny('policy.agent-type.known@0') },
  { name: 'type look-alike: port in authority', attack: 'acme.example:443', chain: rootTo('spiffe://acme.example:443/agent/planning/i1'), expect: deny('policy.agent-type.known@0') },
  { name: 'unknown type: not listed in the policy', attack: 'a type nobody declared', chain: rootTo(A('superuser')), expect: deny('policy.agent-type.known@0') },

  // ---- agent type restrictions dodged
  { name: 'type restriction: execution disguised as Execution', attack: 'case to dodge the to-list', chain: [{ sub: INV, scope: ['cloud:read'] }, { sub: A('Execution'), scope: ['cloud:read'] }], expect: deny('policy.agent-type.known@1') },
  { name: 'type restriction: delegator poses as planning by look-alike', attack: 'the delegator ID is planning/../cloud-inventory', chain: [{ sub: 'spiffe://acme.example/agent/planning/../x', scope: ['cloud:read'] }, { sub: A('execution'), scope: ['cloud:read'] }], expect: deny('policy.agent-type.known@0', 'policy.cross-domain.default@1', 'policy.types.execution-from-planning@1') },
  { name: 'type restriction: inventory delegates to execution', attack: 'a non-planning delegator', chain: [{ sub: P, scope: ['cloud:read'] }, { sub: INV, scope: ['cloud:read'] }, { sub: A('execution'), scope: ['cloud:read'] }], expect: deny('policy.types.execution-from-planning@2') },
  { name: 'type restriction: human straight to execution', attack: 'skipping the planner', chain: rootTo(A('execution')), expect: deny('policy.types.execution-from-planning@0') },
  { name: 'type restriction: misaligned issuer claims to be planning', attack: 'link 2 issued "by planning" although link 1 went to inventory: the policy judges the signed issuer; the verifier refuses the misalignment (chain.principal_misaligned)', chain: [{ sub: P, scope: ['cloud:read'] }, { sub: INV, scope: ['cloud:read'] }, { sub: A('execution'), scope: ['cloud:read'], iss: P }], expect: allow },

  // ---- depth
  { name: 'depth: six links', attack: 'chain longer than 5', chain: [0, 1, 2, 3, 4, 5].map((i) => ({ sub: A(i === 0 ? 'planning' : 'cloud-inventory', `i${i}`), scope: ['reports:read'] })), expect: deny('policy.depth.global@5') },
  { name: 'depth: undecodable tail hides length', attack: 'seven links on the span, three that decode', chain: ok().concat([{ sub: A('cloud-inventory', 'i9'), scope: ['cloud:read'] }]), depth: 7, expect: deny('policy.depth.global@5', 'policy.input.incomplete@-') },
  { name: 'depth: analytics-rooted chain of three', attack: 'per-root-type limit', chain: [{ sub: A('analytics'), scope: ['reports:read'] }, { sub: A('cloud-inventory'), scope: ['reports:read'] }, { sub: A('cloud-inventory', 'i2'), scope: ['reports:read'] }], expect: deny('policy.depth.from-analytics@2') },
  {
    name: 'depth: four links touching partner.example',
    attack: 'per-trust-domain limit',
    chain: [
      { sub: P, scope: ['billing:read'] },
      { sub: A('analytics', 'p1', 'partner.example'), scope: ['billing:read'] },
      { sub: A('analytics', 'p2', 'partner.example'), scope: ['billing:read'] },
      { sub: A('analytics', 'p3', 'partner.example'), scope: ['billing:read'] },
    ],
    expect: deny('policy.depth.partner@3'),
  },

  // ---- scopes
  { name: 'scope: escalation mid-chain', attack: 'child adds iam:*', chain: [{ sub: P, scope: ['cloud:read'] }, { sub: INV, scope: ['cloud:read', 'iam:CreateAccessKey'] }], expect: deny('policy.scope.diminishment@1') },
  { name: 'scope: wildcard widening', attack: 'cloud:read → cloud:*', chain: [{ sub: P, scope: ['cloud:read'] }, { sub: INV, scope: ['cloud:*'] }], expect: deny('policy.scope.diminishment@1') },
  { name: 'scope: case trick in a child scope', attack: 'Cloud:read is another scope', chain: [{ sub: P, scope: ['cloud:read'] }, { sub: INV, scope: ['Cloud:read'] }], expect: deny('policy.scope.diminishment@1') },
  { name: 'scope: bare wildcard', attack: '* grants everything, pii included', chain: [{ sub: P, scope: ['*'] }], expect: deny('policy.approval.pii@0', 'policy.scope.wildcard@0') },
  { name: 'scope: short wildcard', attack: 'c* is nearly everything starting with c', chain: [{ sub: P, scope: ['c*'] }], expect: deny('policy.scope.wildcard@0') },
  { name: 'scope: action beyond the last link', attack: 'iam call under a read grant', chain: ok(), action: { scopes: ['iam:CreateAccessKey'] }, expect: deny('policy.scope.diminishment@-') },
  { name: 'scope: Unicode look-alike', attack: 'pïi:read', chain: [{ sub: P, scope: ['pïi:read'] }], expect: deny('policy.input.invalid@0') },
  { name: 'scope: embedded space', attack: 'two scopes in one string', chain: [{ sub: P, scope: ['cloud:read pii:read'] }], expect: deny('policy.input.invalid@0') },
  { name: 'scope: star in the middle', attack: 'pii*:read is not a pattern', chain: [{ sub: P, scope: ['pii*:read'] }], expect: deny('policy.input.invalid@0') },
  { name: 'scope: action scope with a zero-width space', attack: 'U+200B in the used scope', chain: ok(), action: { scopes: ['ec2:Describe\u200bInstances'] }, expect: deny('policy.input.invalid@-') },

  // ---- temporal limits
  { name: 'lifetime: write scope for three hours', attack: 'long-lived write delegation', chain: [{ sub: P, scope: ['reports:write'], life: 3 * 3600 }], expect: deny('policy.lifetime.write@0') },
  { name: 'lifetime: write hidden behind an implication', attack: 'infrastructure:review implies reports:write', chain: [{ sub: P, scope: ['infrastructure:review'], life: 3 * 3600 }], expect: deny('policy.lifetime.write@0') },
  { name: 'lifetime: write scope in another case', attack: 'Reports:Write to slip past the selector', chain: [{ sub: P, scope: ['Reports:Write'], life: 3 * 3600 }], expect: deny('policy.lifetime.write@0') },
  { name: 'lifetime: deep link lives too long', attack: 'fourth link with a 1 h lifetime', chain: [0, 1, 2, 3].map((i) => ({ sub: A(i === 0 ? 'planning' : 'cloud-inventory', `i${i}`), scope: ['reports:read'], life: 3600 })), expect: deny('policy.lifetime.deep@3') },
  { name: 'lifetime: five hours', attack: 'beyond the global cap', chain: [{ sub: P, scope: ['cloud:read'], life: 5 * 3600 }], expect: deny('policy.lifetime.max@0') },

  // ---- cross-domain
  {
    name: 'cross-domain: hop hidden mid-chain',
    attack: 'acme → evil → acme looks like an acme chain at both ends',
    chain: [{ sub: P, scope: ['cloud:read'] }, { sub: A('cloud-inventory', 'e1', 'evil.example'), scope: ['cloud:read'] }, { sub: INV, scope: ['cloud:read'] }],
    expect: deny('policy.cross-domain.default@1', 'policy.cross-domain.default@2'),
  },
  { name: 'cross-domain: allowed pair, wrong delegatee type', attack: 'partner inventory instead of analytics', chain: [{ sub: P, scope: ['billing:read'] }, { sub: A('cloud-inventory', 'p1', 'partner.example'), scope: ['billing:read'] }], expect: deny('policy.cross.acme-to-partner-analytics@1') },
  { name: 'cross-domain: allowed pair, too much scope', attack: 'cloud:read crossing where only billing may', chain: [{ sub: P, scope: ['billing:read', 'cloud:read'] }, { sub: A('analytics', 'p1', 'partner.example'), scope: ['cloud:read'] }], expect: deny('policy.cross.acme-to-partner-analytics@1') },
  { name: 'cross-domain: allowed pair, wrong delegator type', attack: 'inventory sending work across', chain: [{ sub: INV, scope: ['billing:read'] }, { sub: A('analytics', 'p1', 'partner.example'), scope: ['billing:read'] }], expect: deny('policy.cross.acme-to-partner-analytics@1') },
  { name: 'cross-domain: reverse direction', attack: 'partner delegating into acme', chain: [{ sub: A('analytics', 'p1', 'partner.example'), scope: ['billing:read'] }, { sub: INV, scope: ['billing:read'] }], expect: deny('policy.cross-domain.default@1') },
  { name: 'cross-domain: look-alike trust domain', attack: 'acme.example.evil is not acme.example', chain: [{ sub: P, scope: ['cloud:read'] }, { sub: A('cloud-inventory', 'i1', 'acme.example.evil'), scope: ['cloud:read'] }], expect: deny('policy.cross-domain.default@1') },

  // ---- human approval
  { name: 'approval: pii without approval', attack: 'sensitive scope, no human in the loop', chain: [{ sub: P, scope: ['pii:read'] }], expect: deny('policy.approval.pii@0') },
  { name: 'approval: PII in capitals', attack: 'case to dodge the sensitive selector', chain: [{ sub: P, scope: ['PII:read'] }], expect: deny('policy.approval.pii@0') },
  { name: 'approval: pii behind a pattern', attack: 'pii:r* names pii:read', chain: [{ sub: P, scope: ['pii:r*'] }], expect: deny('policy.approval.pii@0') },
  { name: 'approval: replayed from another link', attack: "link 0's approval presented for link 1", chain: [{ sub: P, scope: ['pii:read'] }, { sub: INV, scope: ['pii:read'] }], signed: [{ signer: 'authz', link: 0, scope: ['pii:read'] }, { signer: 'authz', link: 1, bindTo: 0, scope: ['pii:read'] }], expect: deny('policy.approval.pii@1') },
  { name: 'approval: signed by an agent key', attack: 'the planner approves its own pii grant', chain: [{ sub: P, scope: ['pii:read'] }, { sub: INV, scope: ['pii:read'] }], signed: [{ signer: 'authz', link: 0, scope: ['pii:read'] }, { signer: 'planning-agent', link: 1, scope: ['pii:read'] }], expect: deny('policy.approval.pii@1') },
  { name: "approval: another domain's authorization key", attack: 'partner.example approving an acme link', chain: [{ sub: P, scope: ['pii:read'] }], signed: [{ signer: 'partner-authz', link: 0, scope: ['pii:read'] }], expect: deny('policy.approval.pii@0') },
  { name: 'approval: narrower than the grant', attack: 'pii:email approved, pii:read granted', chain: [{ sub: P, scope: ['pii:read'] }], signed: [{ signer: 'authz', link: 0, scope: ['pii:email'] }], expect: deny('policy.approval.pii@0') },
  { name: 'approval: capitalised approval scope', attack: 'PII:* does not approve pii:read', chain: [{ sub: P, scope: ['pii:read'] }], signed: [{ signer: 'authz', link: 0, scope: ['PII:*'] }], expect: deny('policy.approval.pii@0') },
  { name: 'approval: expired at the action', attack: 'a one-minute approval used an hour later', chain: [{ sub: P, scope: ['pii:read'] }], signed: [{ signer: 'authz', link: 0, scope: ['pii:read'], ttlSec: 60 }], action: { scopes: ['pii:read'], atSec: 3600 }, expect: deny('policy.approval.pii@0') },
  { name: 'approval: not yet issued at the action', attack: 'approval minted after the fact', chain: [{ sub: P, scope: ['pii:read'] }], signed: [{ signer: 'authz', link: 0, scope: ['pii:read'], issuedAt: 600 }], action: { scopes: ['pii:read'], atSec: 60 }, expect: deny('policy.approval.pii@0') },
  { name: 'approval: edited after signing', attack: 'scope widened in the payload', chain: [{ sub: P, scope: ['pii:*'] }], signed: [{ signer: 'authz', link: 0, scope: ['pii:read'], tamper: true }], expect: deny('policy.approval.pii@0') },

  // ---- the input itself
  { name: 'input: fractional depth', attack: 'depth 2.5', chain: ok(), raw: (b) => ({ ...b, depth: 2.5 }), expect: deny('policy.input.invalid@-') },
  { name: 'input: 65 links', attack: 'resource exhaustion', chain: ok(), raw: (b) => ({ ...b, depth: 65, links: Array.from({ length: 65 }, () => (b.links as unknown[])[0]) }), expect: deny('policy.input.invalid@-') },
  { name: 'input: scope as a string', attack: 'type confusion', chain: ok(), raw: (b) => ({ ...b, links: [{ ...(b.links as object[])[0], scope: 'cloud:read' }] }), expect: deny('policy.input.invalid@0') },
  { name: 'input: action by an unknown agent', attack: 'acting under a look-alike ID', chain: ok(), action: { scopes: ['ec2:DescribeInstances'], agent: 'spiffe://acme.example/agent/cloud-inventory/i1/' }, expect: deny('policy.agent-type.known@-') },
];

export { HUMAN, T0 };
