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
export function scopeRules(f: Facts, o: Outcome): void {
  const s = f.policy.data.scopes;
  if (s === null) return;
  o.applied.add(s.id);
  for (let i = 1; i < f.links.length; i++) {
    const parent = (f.links[i - 1] as PolicyLink).scope;
    const wider = (f.links[i] as PolicyLink).scope.filter((w) => !parent.some((g) => coversWith(g, w, f.policy.closures)));
    if (wider.length > 0) violate(o, s.id, i, `grants ${wider.join(', ')} beyond its parent's scope`);
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

/** A link that needs approval under a rule, and the approvals that would do if valid at the action's time. */
export interface ApprovalNeed {
  rule: string;
  link: number;
  sensitive: string[];
  /** Verified, bound to this link, covering every sensitive scope. */
  candidates: PolicyApproval[];
}

/**
 * Human approval: links granting sensitive scopes need a verified approval
 * bound to their hash that covers those scopes. Time is not judged here (a
 * chain has no time); `approvalTimes` does it per action.
 */
export function approvalRules(f: Facts, o: Outcome): ApprovalNeed[] {
  const needs: ApprovalNeed[] = [];
  for (const r of f.policy.data.approval) {
    f.links.forEach((l, i) => {
      const sensitive = selects(r.scopes, l.scope, f);
      if (sensitive.length === 0) return;
      o.applied.add(r.id);
      const bound = f.approvals.filter((a) => a.linkHash === l.hash);
      const candidates = bound.filter((a) => a.verified && sensitive.every((s) => a.scope.some((g) => patternCovers(g, s))));
      needs.push({ rule: r.id, link: i, sensitive, candidates });
      if (candidates.length > 0) return;
      const why =
        bound.length === 0
          ? 'no approval is bound to this link'
          : bound.map((a) => (a.verified ? `approval covers only ${a.scope.join(', ')}` : `approval rejected: ${a.error}`)).join('; ');
      violate(o, r.id, i, `grants sensitive ${sensitive.join(', ')}: ${why}`);
    });
  }
  return needs;
}

/** Per action: each approval that satisfied a need must be valid at the action's time. */
export function approvalTimes(needs: readonly ApprovalNeed[], atMs: number, o: Outcome): void {
  for (const n of needs) {
    if (n.candidates.length === 0) continue; // already a violation of the chain
    if (n.candidates.some((a) => a.iat * 1000 <= atMs && atMs < a.exp * 1000)) continue;
    violate(o, n.rule, n.link, `grants sensitive ${n.sensitive.join(', ')}: no approval is valid at the action's time`);
  }
}

/** Per action: the acting agent's type and the scopes it used. */
export function actionRules(f: Pick<Facts, 'policy' | 'links'>, agentType: string | undefined, action: { agent: string; scopes: readonly string[] }, o: Outcome): void {
  const p = f.policy.data;
  if (agentType === undefined) violate(o, p.agentTypes.id, undefined, `acting agent ${JSON.stringify(action.agent)} has no known agent type`);
  if (p.scopes === null) return;
  const last = (f.links[f.links.length - 1] as PolicyLink).scope;
  const beyond = action.scopes.filter((w) => !last.some((g) => coversWith(g, w, f.policy.closures)));
  if (beyond.length > 0) violate(o, p.scopes.id, undefined, `action used ${beyond.join(', ')} beyond the last link's scope`);
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
