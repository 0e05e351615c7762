/**
 * fast-check arbitraries for policy engine inputs: a small universe of trust
 * domains, agent paths (with look-alikes), scopes (with case, Unicode and
 * syntax tricks), lifetimes and approvals, so that every rule fires often.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import type { ActionPolicyInput, ChainPolicyInput, PolicyApproval, PolicyLink } from '../../src/policy/types.js';

export const DOMAINS = ['acme.example', 'partner.example', 'evil.example'];
const ODD_DOMAINS = ['ACME.example', 'acme.example.', 'acme..example'];
export const TYPES = ['planning', 'cloud-inventory', 'analytics', 'execution', 'report-generator'];
const ODD_TYPES = ['Planning', 'plаnning' /* Cyrillic a */, 'unknown', 'planning%2F', '..'];
export const SCOPES = [
  'infrastructure:review', 'cloud:read', 'cloud:*', 'ec2:Describe*', 'ec2:DescribeInstances', 's3:List*', 'reports:write', 'reports:read',
  'billing:read', 'ce:GetCostAndUsage', 'confluence:CreatePage', 'pii:read', 'pii:*', 'PII:read', 'pi*', '*', 'c*', 'ec2*', 'reports:*', 'security:read',
];
const BAD_SCOPES = ['bad scope', 'pïi:read', 'a*b', ''];

const domain = fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...DOMAINS) }, { weight: 1, arbitrary: fc.constantFrom(...ODD_DOMAINS) });
const type = fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...TYPES) }, { weight: 1, arbitrary: fc.constantFrom(...ODD_TYPES) });
const instance = fc.constantFrom('i1', 'i2', 'x');
export const spiffeId = fc.oneof(
  { weight: 12, arbitrary: fc.tuple(domain, type, instance).map(([d, t, i]) => `spiffe://${d}/agent/${t}/${i}`) },
  { weight: 3, arbitrary: fc.tuple(domain, type).map(([d, t]) => `spiffe://${d}/agent/${t}`) },
  {
    weight: 3,
    arbitrary: fc.tuple(domain, type, fc.constantFrom('/Agent/%t/i1', '/agent/%t/i1/', '/agent//%t', '/agent/%t/../i1', '/agent/%t/i1/extra', '/agents/%t/i1', '/agent/%t/%2e%2e', ' /agent/%t/i1')).map(
      ([d, t, p]) => `spiffe://${d}${p.replace('%t', t)}`,
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom('alice@acme.example', 'spiffe://acme.example', 'SPIFFE://acme.example/agent/planning/i1', 'spiffe://acme.example/agent/planning/i1\u0000') },
);
const scope = fc.oneof({ weight: 30, arbitrary: fc.constantFrom(...SCOPES) }, { weight: 1, arbitrary: fc.constantFrom(...BAD_SCOPES) });
const scopes = fc.uniqueArray(scope, { minLength: 1, maxLength: 4 });
const lifetime = fc.constantFrom(600, 1800, 1801, 3600, 7200, 7201, 14400, 14401, 30000);

const T0 = 1_790_000_000;

export interface GenOptions {
  /** Also produce shape-breaking values (a few per hundred). */
  hostileShape?: boolean;
}

function chainArb(): fc.Arbitrary<ChainPolicyInput> {
  return fc
    .tuple(
      fc.array(fc.tuple(spiffeId, scopes, lifetime, fc.constantFrom(...DOMAINS)), { minLength: 1, maxLength: 6 }),
      fc.constantFrom('alice@acme.example', 'bob@partner.example'),
      fc.constantFrom(0, 0, 0, 0, 1, -1, 3),
      fc.boolean(),
    )
    .chain(([hops, human, depthDelta, aligned]) => {
      const links: PolicyLink[] = hops.map(([sub, sc, life, td], i) => ({
        // Aligned chains (the usual) take the previous delegatee as issuer.
        iss: i === 0 ? human : aligned ? hops[i - 1]![0] : hops[(i * 7) % hops.length]![0],
        sub,
        scope: sc,
        iat: T0,
        nbf: T0,
        exp: T0 + life,
        hash: `h${i}-${sub.length}`,
        trustDomain: td,
      }));
      const approval: fc.Arbitrary<PolicyApproval> = fc
        .tuple(fc.nat({ max: links.length }), fc.boolean(), fc.uniqueArray(fc.constantFrom('pii:read', 'pii:*', 'PII:*', '*', 'cloud:read'), { minLength: 1, maxLength: 2 }), fc.integer({ min: -3600, max: 3600 }), lifetime)
        .map(([li, verified, sc, off, life]) => ({
          hash: '', // content-derived by rehash()
          verified,
          error: verified ? '' : 'signed by an agent key',
          linkHash: li < links.length ? links[li]!.hash : 'h-other',
          approver: 'carol@acme.example',
          scope: sc,
          iat: T0 + off,
          exp: T0 + off + life,
        }));
      return fc.array(approval, { maxLength: 3 }).map((approvals) => ({ depth: Math.max(0, links.length + depthDelta), links, approvals }));
    });
}

/** Mostly well-formed chains (so allows are common), each with at most one mutation. */
function plausibleArb(): fc.Arbitrary<ChainPolicyInput> {
  const ladder = [['infrastructure:review'], ['cloud:read', 'reports:write'], ['ec2:Describe*'], ['ec2:DescribeInstances']];
  return fc
    .tuple(
      fc.integer({ min: 1, max: 4 }),
      fc.array(fc.constantFrom('cloud-inventory', 'report-generator', 'planning', 'analytics', 'execution'), { minLength: 3, maxLength: 3 }),
      fc.constantFrom(1800, 3600),
      fc.constantFrom('none', 'none', 'none', 'lookalike', 'pii', 'pii-approved', 'cross', 'cross-ok', 'long', 'deep'),
      fc.integer({ min: 0, max: 3 }),
    )
    .map(([n, types, life, mutation, at]) => {
      const subs = ['planning', ...types].slice(0, n).map((t, i) => `spiffe://acme.example/agent/${t}/i${i}`);
      const links: PolicyLink[] = subs.map((sub, i) => ({
        iss: i === 0 ? 'alice@acme.example' : subs[i - 1]!,
        sub,
        scope: [...ladder[i]!],
        iat: T0,
        nbf: T0,
        exp: T0 + life - i * 60,
        hash: `p${i}`,
        trustDomain: 'acme.example',
      }));
      const approvals: PolicyApproval[] = [];
      const k = Math.min(at, n - 1);
      const l = links[k]!;
      if (mutation === 'lookalike') l.sub = l.sub.replace('/agent/', '/Agent/');
      if (mutation === 'pii' || mutation === 'pii-approved') l.scope = [...l.scope, 'pii:read'];
      if (mutation === 'pii-approved') approvals.push({ hash: 'a0', verified: true, error: '', linkHash: l.hash, approver: 'carol@acme.example', scope: ['pii:*'], iat: T0 - 60, exp: T0 + 3600 });
      if ((mutation === 'cross' || mutation === 'cross-ok') && k > 0) {
        l.sub = `spiffe://partner.example/agent/${mutation === 'cross-ok' ? 'analytics' : 'cloud-inventory'}/p`;
        if (mutation === 'cross-ok') l.scope = ['reports:read'];
        links.length = k + 1;
      }
      if (mutation === 'long') l.exp = l.iat + 20000;
      for (let i = 1; i < links.length; i++) links[i]!.iss = links[i - 1]!.sub;
      return { depth: links.length + (mutation === 'deep' ? 4 : 0), links, approvals };
    });
}

const digest = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('base64url');

/**
 * Give links and approvals content-derived hashes, as real inputs have (the
 * cached engine relies on it); approvals keep pointing at the same link.
 */
function rehash(c: ChainPolicyInput): ChainPolicyInput {
  const map = new Map<string, string>();
  const links = c.links.map((l, i) => {
    const { hash, ...rest } = l;
    const h = digest([i, rest]);
    if (!map.has(hash)) map.set(hash, h);
    return { ...rest, hash: h };
  });
  const approvals = c.approvals.map((a) => {
    const linkHash = map.get(a.linkHash) ?? a.linkHash;
    const { hash: _, ...rest } = { ...a, linkHash };
    return { ...rest, hash: digest(rest) };
  });
  return { depth: c.depth, links, approvals };
}

export function chainInputArb(): fc.Arbitrary<ChainPolicyInput> {
  return fc.oneof(chainArb(), plausibleArb()).map(rehash);
}

export function actionInputArb(): fc.Arbitrary<ActionPolicyInput> {
  return chainInputArb().chain((c) =>
    fc
      .tuple(
        fc.oneof({ weight: 4, arbitrary: fc.constant(c.links[c.links.length - 1]!.sub) }, { weight: 1, arbitrary: spiffeId }),
        fc.oneof(fc.uniqueArray(scope, { maxLength: 3 }), fc.subarray(c.links[c.links.length - 1]!.scope.filter((x) => !x.endsWith('*')))),
        fc.integer({ min: -7200, max: 20000 }),
      )
      .map(([agent, sc, off]) => ({ ...c, action: { agent, scopes: sc, atMs: (T0 + off) * 1000 } })),
  );
}
