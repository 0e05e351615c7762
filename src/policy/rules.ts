/**
 * The seed's six policy rows, each a function over one chain (and action)
 * that records which rules applied and which were violated. Pure; the engine
 * (engine.ts) runs them after the input's shape is proven. Every function
 * here has a twin in policies/chainsight.rego, and the differential test
 * holds the two to the same answers.
 */
import type { CompiledPolicy } from './compile.js';
import { coversWith, expand, overlaps, patternCovers } from './scope-select.js';
import { parseSpiffe } from './spiffe-type.js';
import { HUMAN_TYPE, type PolicyApproval, type PolicyLink, type PolicyReason } from './types.js';

/** What the rules learn about one input, shared by all of them. */
export interface Facts {
  policy: CompiledPolicy;
  links: readonly PolicyLink[];
  depth: number;
  approvals: readonly PolicyApproval[];
  /** Known type of each link's delegatee (undefined: unknown). */
  subTypes: Array<string | undefined>;
  /** Type of each link's delegator: `human` for the root. */
  issTypes: Array<string | undefined>;
  /** Trust domain of each link's delegatee / delegator (undefined: not a SPIFFE ID). */
  subDomains: Array<string | undefined>;
  issDomains: Array<string | undefined>;
  /** The action's time in ms, when judging an action. */
  atMs?: number;
}

export interface Outcome {
  applied: Set<string>;
  reasons: PolicyReason[];
}

export function violate(o: Outcome, rule: string, link: number | undefined, message: string): void {
  const r: PolicyReason = { code: `policy.${rule}`, rule, message };
  if (link !== undefined) r.link = link;
  o.reasons.push(r);
}

/** Agent types: every delegatee must have a known type (unmatched IDs are denied). */
export function agentTypeRule(f: Facts, o: Outcome): void {
  const id = f.policy.data.agentTypes.id;
  o.applied.add(id);
  f.links.forEach((l, i) => {
    if (f.subTypes[i] === undefined) violate(o, id, i, `delegatee ${JSON.stringify(l.sub)} has no known agent type (no pattern matches, or its type is not listed)`);
  });
}

/** Maximum depth: global, per root agent type, per trust domain. */
export function depthRules(f: Facts, o: Outcome): void {
  for (const r of f.policy.data.depth) {
    if (r.rootAgentType !== null && f.subTypes[0] !== r.rootAgentType) continue;
    if (r.trustDomain !== null && !f.subDomains.includes(r.trustDomain)) continue;
    o.applied.add(r.id);
    if (f.depth > r.max) violate(o, r.id, r.max, `chain has ${f.depth} links, at most ${r.max} allowed`);
  }
}

/** Scope diminishment with the policy's implications, and wildcard limits. */
export function scopeRules(f: Facts, o: Outcome, actionScopes?: readonly string[]): void {
  const s = f.policy.data.scopes;
  if (s === null) return;
  o.applied.add(s.id);
  for (let i = 1; i < f.links.length; i++) {
    const parent = (f.links[i - 1] as PolicyLink).scope;
    const wider = (f.links[i] as PolicyLink).scope.filter((w) => !parent.some((g) => coversWith(g, w, f.policy.closures)));
    if (wider.length > 0) violate(o, s.id, i, `grants ${wider.join(', ')} beyond its parent's scope`);
  }
  if (actionScopes !== undefined && f.links.length > 0) {
    const last = (f.links[f.links.length - 1] as PolicyLink).scope;
    const beyond = actionScopes.filter((w) => !last.some((g) => coversWith(g, w, f.policy.closures)));
    if (beyond.length > 0) violate(o, s.id, undefined, `action used ${beyond.join(', ')} beyond the last link's scope`);
  }
  const w = s.wildcards;
  if (w === null) return;
  o.applied.add(w.id);
  f.links.forEach((l, i) => {
    for (const sc of l.scope) {
      if (!sc.endsWith('*')) continue;
      if (!w.allowed) violate(o, w.id, i, `wildcard scope ${sc} is not allowed`);
      else if (sc.length - 1 < w.minPrefixLength) violate(o, w.id, i, `wildcard scope ${sc} is broader than ${w.minPrefixLength} fixed characters allow`);
    }
  });
}

/** Does any scope of the link, or anything it implies, overlap one of the selectors? */
function selects(selectors: readonly string[], scopes: readonly string[], f: Facts): string[] {
  const hit: string[] = [];
  for (const sc of scopes) {
    if (expand(sc, f.policy.closures).some((t) => selectors.some((sel) => overlaps(sel, t)))) hit.push(sc);
  }
  return hit;
}

/** Temporal limits: maximum lifetime per link, per depth, per scope selector. */
export function lifetimeRules(f: Facts, o: Outcome): void {
  for (const r of f.policy.data.lifetime) {
    f.links.forEach((l, i) => {
      if (i + 1 < r.fromDepth) return;
      if (r.scopes !== null && selects(r.scopes, l.scope, f).length === 0) return;
      o.applied.add(r.id);
      const life = l.exp - l.iat;
      if (life > r.maxSec) violate(o, r.id, i, `lives ${life}s, at most ${r.maxSec}s allowed`);
    });
  }
}

/** Agent type restrictions: who may delegate to the guarded types. */
export function delegationRules(f: Facts, o: Outcome): void {
  for (const r of f.policy.data.delegation) {
    f.links.forEach((l, i) => {
      const to = f.subTypes[i];
      if (to === undefined || !r.to.includes(to)) return;
      o.applied.add(r.id);
      const from = f.issTypes[i];
      if (from === undefined || !r.from.includes(from)) {
        violate(o, r.id, i, `${from ?? 'an agent of unknown type'} (${l.iss}) may not delegate to ${to}`);
      }
    });
  }
}

/** Cross-domain restrictions: default deny; allowed crossings by domain pair, agent types and scope. */
export function crossDomainRules(f: Facts, o: Outcome): void {
  const cd = f.policy.data.crossDomain;
  for (let i = 1; i < f.links.length; i++) {
    const from = f.issDomains[i];
    const to = f.subDomains[i];
    if (from !== undefined && from === to) continue;
    const l = f.links[i] as PolicyLink;
    const candidates = from === undefined || to === undefined ? [] : cd.allow.filter((r) => r.from === from && r.to === to);
    if (candidates.length === 0) {
      o.applied.add(cd.id);
      violate(o, cd.id, i, `delegation from ${from ?? 'an unknown trust domain'} into ${to ?? 'an unknown trust domain'} is not allowed`);
      continue;
    }
    const passing = candidates.filter(
      (r) =>
        (r.delegatorTypes === null ? f.issTypes[i] !== undefined : r.delegatorTypes.includes(f.issTypes[i] as string)) &&
        (r.delegateeTypes === null ? f.subTypes[i] !== undefined : r.delegateeTypes.includes(f.subTypes[i] as string)) &&
        l.scope.every((w) => r.maxScope.some((g) => coversWith(g, w, f.policy.closures))),
    );
    if (passing.length > 0) {
      for (const r of passing) o.applied.add(r.id);
      continue;
    }
    for (const r of candidates) {
      o.applied.add(r.id);
      violate(o, r.id, i, `crossing ${from} → ${to} by ${f.issTypes[i] ?? 'unknown type'} → ${f.subTypes[i] ?? 'unknown type'} with scope ${l.scope.join(', ')} is beyond what the rule lets cross`);
    }
  }
}

/** Human approval: links granting sensitive scopes need a verified approval bound to their hash. */
export function approvalRules(f: Facts, o: Outcome): void {
  for (const r of f.policy.data.approval) {
    f.links.forEach((l, i) => {
      const sensitive = selects(r.scopes, l.scope, f);
      if (sensitive.length === 0) return;
      o.applied.add(r.id);
      const bound = f.approvals.filter((a) => a.linkHash === l.hash);
      const ok = bound.some(
        (a) =>
          a.verified &&
          sensitive.every((s) => a.scope.some((g) => patternCovers(g, s))) &&
          (f.atMs === undefined || (a.iat * 1000 <= f.atMs && f.atMs < a.exp * 1000)),
      );
      if (ok) return;
      const why =
        bound.length === 0
          ? 'no approval is bound to this link'
          : bound.map((a) => (!a.verified ? `approval rejected: ${a.error}` : f.atMs !== undefined && (f.atMs < a.iat * 1000 || f.atMs >= a.exp * 1000) ? 'approval not valid at the action time' : `approval covers only ${a.scope.join(', ')}`)).join('; ');
      violate(o, r.id, i, `grants sensitive ${sensitive.join(', ')}: ${why}`);
    });
  }
}

/** Types and domains of every link, computed once per input. */
export function gatherFacts(links: readonly PolicyLink[], typeOf: (id: string) => string | undefined): Pick<Facts, 'subTypes' | 'issTypes' | 'subDomains' | 'issDomains'> {
  return {
    subTypes: links.map((l) => typeOf(l.sub)),
    issTypes: links.map((l, i) => (i === 0 ? HUMAN_TYPE : typeOf(l.iss))),
    subDomains: links.map((l) => parseSpiffe(l.sub)?.trustDomain),
    issDomains: links.map((l, i) => (i === 0 ? undefined : parseSpiffe(l.iss)?.trustDomain)),
  };
}
