/**
 * Granted against used scope for one subject (an agent, an agent type or a
 * delegation edge): which granted permissions went unused over the tracking
 * window, the usage share, and the least-privilege grant that keeps exactly
 * what was used. Pure: the store reads are in store.ts.
 *
 * A grant is judged in the permissions it reaches: each granted scope is
 * expanded through the policy's implication map (schemas/delegation-token.md
 * §5) down to its leaves, the scopes that imply nothing further (or are
 * patterns, which also reach scopes no map names). `cloud:read` →
 * `ec2:Describe*`, `s3:List*`, `compute.instances.list`: an agent using only
 * `ec2:DescribeInstances` used one permission in three (33%).
 */
import { patternCovers, type ScopeMatcher } from '../../verify/scope.js';

/** One scope granted to the subject, judged over the window (first grant ≤ window start). */
export interface GrantedScope {
  scope: string;
  firstGrantedMs: number;
  lastGrantedMs: number;
}

/** One scope used through the subject, and when last (all time; in the window when ≥ its start). */
export interface UsedScope {
  scope: string;
  lastUsedMs: number;
}

/** A leaf permission of the grant and whether the window saw it used. */
export interface LeafUsage {
  scope: string;
  /** The granted scopes that reach it. */
  grantedBy: string[];
  used: boolean;
  /** Last use at any time (before the window too), null when never used. */
  lastUsedMs: number | null;
}

export interface UsageAnalysis {
  /** Every leaf, in scope order. */
  leaves: LeafUsage[];
  unused: LeafUsage[];
  /** Used leaves ÷ leaves, 0..1 (1 for an empty grant). */
  share: number;
  /** Least-privilege grant: covers every scope used in the window, nothing unused, nothing beyond the grant. */
  suggestion: string[];
}

const isPattern = (s: string) => s.endsWith('*');

/**
 * The leaves of a grant: every scope it reaches that implies nothing further,
 * and every pattern (a pattern also reaches scopes no map names). A leaf
 * another leaf's pattern already covers adds nothing and is dropped.
 */
export function grantLeaves(matcher: ScopeMatcher, granted: readonly string[]): Map<string, string[]> {
  const by = new Map<string, string[]>();
  for (const g of granted) {
    for (const m of matcher.closure(g)) {
      if (m.length === 0) continue;
      if (!isPattern(m) && matcher.closure(m).length > 1) continue;
      const list = by.get(m) ?? [];
      if (!list.includes(g)) list.push(g);
      by.set(m, list);
    }
  }
  // Several leaves, one covering another (`ec2:*` and `ec2:Describe*`): the narrower adds nothing.
  const keys = [...by.keys()];
  for (const k of keys) {
    const into = keys.find((o) => o !== k && by.has(o) && patternCovers(o, k));
    if (into === undefined) continue;
    const merged = by.get(into) as string[];
    for (const g of by.get(k) as string[]) if (!merged.includes(g)) merged.push(g);
    by.delete(k);
  }
  return by;
}

/** Does using `used` exercise `leaf`? The leaf grants it, or it is a broader scope reaching the leaf (using `cloud:read` itself). */
function exercises(matcher: ScopeMatcher, leaf: string, used: string): boolean {
  return matcher.covers(leaf, used) || matcher.covers(used, leaf);
}

/**
 * Judges one subject's grant against its use. Uses outside the grant (a
 * failed action's exceeded scope) are ignored: they neither mark a leaf used
 * nor enter the suggestion, which therefore never exceeds the grant.
 */
export function analyseUsage(matcher: ScopeMatcher, granted: readonly string[], used: readonly UsedScope[], windowStartMs: number): UsageAnalysis {
  const grantedSet = [...new Set(granted)].sort();
  const inGrant = used.filter((u) => u.scope.length > 0 && matcher.coveredBy(grantedSet, u.scope));
  const inWindow = inGrant.filter((u) => u.lastUsedMs >= windowStartMs);
  const leaves: LeafUsage[] = [];
  for (const [scope, grantedBy] of [...grantLeaves(matcher, grantedSet)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    let last: number | null = null;
    for (const u of inGrant) if (exercises(matcher, scope, u.scope) && (last === null || u.lastUsedMs > last)) last = u.lastUsedMs;
    leaves.push({ scope, grantedBy: grantedBy.sort(), used: last !== null && last >= windowStartMs, lastUsedMs: last });
  }
  const unused = leaves.filter((l) => !l.used);
  const share = leaves.length === 0 ? 1 : (leaves.length - unused.length) / leaves.length;
  return { leaves, unused, share, suggestion: suggestGrant(matcher, grantedSet, inWindow.map((u) => u.scope), unused.map((l) => l.scope)) };
}

/**
 * The least-privilege grant for the used scopes. Starts from the exact scopes
 * used and collapses them only into a scope the grant itself names (a granted
 * scope or one it implies, so an operator recognises it) that
 *  - grants none of the unused leaves,
 *  - for a named scope (an implication key): covers used scopes;
 *  - for a wildcard pattern: covers at least two distinct used scopes (one
 *    used scope is suggested exactly: a pattern would only add members nobody used).
 * Broadest candidates first. Every suggested scope is covered by the grant,
 * and every used scope by the suggestion (property-tested).
 */
export function suggestGrant(matcher: ScopeMatcher, granted: readonly string[], usedInWindow: readonly string[], unusedLeaves: readonly string[]): string[] {
  const used = [...new Set(usedInWindow.filter((u) => u.length > 0 && matcher.coveredBy(granted, u)))].sort();
  if (used.length === 0) return [];
  const vocabulary = new Set<string>();
  for (const g of granted) for (const m of matcher.closure(g)) if (m.length > 0) vocabulary.add(m);
  const candidates: Array<{ scope: string; covers: string[] }> = [];
  for (const c of vocabulary) {
    if (!matcher.coveredBy(granted, c)) continue;
    if (unusedLeaves.some((l) => matcher.covers(c, l))) continue;
    const covered = used.filter((u) => matcher.covers(c, u));
    const enough = isPattern(c) && matcher.closure(c).length === 1 ? covered.filter((u) => u !== c).length >= 2 || covered.includes(c) : covered.length > 0;
    if (enough) candidates.push({ scope: c, covers: covered });
  }
  // Broadest first; at a tie a named scope before a pattern (the name is how the operator grants it).
  candidates.sort((a, b) => b.covers.length - a.covers.length || Number(isPattern(a.scope)) - Number(isPattern(b.scope)) || (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0));
  const chosen: string[] = [];
  const left = new Set(used);
  for (const c of candidates) {
    if (!c.covers.some((u) => left.has(u))) continue;
    chosen.push(c.scope);
    for (const u of c.covers) left.delete(u);
  }
  const all = [...chosen, ...left];
  // A scope another suggested scope already covers adds nothing.
  return all.filter((s) => !all.some((o) => o !== s && matcher.covers(o, s) && !matcher.covers(s, o))).sort();
}

/** "10%": the share as the seed writes it, rounded down so 99.6% never reads as fully used. */
export function formatShare(share: number): string {
  return `${Math.floor(share * 100)}%`;
}
