/**
 * Scope syntax and the two scope relations the policy needs besides the
 * verifier's coverage (src/verify/scope.ts):
 *
 *  - `expand`: what a granted scope grants through the implication map
 *    (itself, plus the precomputed closure of every implication key it equals
 *    or, as a pattern, covers);
 *  - `overlaps`: could a granted scope and a selector (`exact`, `prefix*` or
 *    `*suffix`) name one same permission? Compared ignoring ASCII case, so
 *    that `PII:read` counts as sensitive where `pii:*` is.
 *
 * Pure, and mirrored rule for rule in policies/chainsight.rego.
 */
import { patternCovers } from '../verify/scope.js';

/** A scope as the token spec allows it: printable ASCII, no space, `*` only last. */
const SCOPE = /^[!-)+-~]*\*?$/;

export function isScope(s: unknown): s is string {
  return typeof s === 'string' && s.length >= 1 && s.length <= 256 && SCOPE.test(s);
}

export { patternCovers };

/**
 * May `sel` (policy selector) and `granted` (scope or trailing-`*` pattern)
 * both match some permission? Both are lower-cased first; scopes are ASCII
 * (checked before any rule runs), so lower-casing is the same everywhere.
 */
export function overlaps(sel: string, granted: string): boolean {
  const s = sel.toLowerCase();
  const g = granted.toLowerCase();
  const gPattern = g.endsWith('*');
  const gStem = gPattern ? g.slice(0, -1) : g;
  if (s.startsWith('*') && s.length > 1) {
    // `*suffix`: a pattern grant can always be extended to end in the suffix.
    return gPattern || g.endsWith(s.slice(1));
  }
  if (s.endsWith('*')) {
    const sStem = s.slice(0, -1);
    return gPattern ? sStem.startsWith(gStem) || gStem.startsWith(sStem) : g.startsWith(sStem);
  }
  return gPattern ? s.startsWith(gStem) : s === g;
}

/** Implication key → every scope it grants, transitively (precomputed at compile time). */
export type Closures = ReadonlyMap<string, readonly string[]>;

/** Everything `granted` grants: itself and the closures of the implication keys it names. */
export function expand(granted: string, closures: Closures): string[] {
  const out = [granted];
  const pattern = granted.endsWith('*');
  const stem = pattern ? granted.slice(0, -1) : granted;
  for (const [k, implied] of closures) {
    if (k === granted || (pattern && k.startsWith(stem))) out.push(...implied);
  }
  return out;
}

/** Does `granted`, with what it implies, cover `wanted`? */
export function coversWith(granted: string, wanted: string, closures: Closures): boolean {
  if (patternCovers(granted, wanted)) return true;
  for (const t of expand(granted, closures)) if (patternCovers(t, wanted)) return true;
  return false;
}
