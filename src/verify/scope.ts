/**
 * Scope coverage: does a granted scope cover a wanted one?
 *
 * Three rules, applied in this order of reach:
 *  - equality;
 *  - a trailing `*` is a prefix pattern (`ec2:*` covers `ec2:Describe*` and
 *    `ec2:DescribeInstances`, `*` covers everything); a pattern never covers a
 *    broader pattern (`ec2:Describe*` does not cover `ec2:*`);
 *  - an implication map names what a scope grants besides itself
 *    (`cloud:read` → `ec2:Describe*`), applied transitively and cycle-safe.
 *
 * Pure: no I/O, no clock. Implications are compiled once per policy.
 */

/** Scope → scopes it implies. */
export type ImplicationMap = Readonly<Record<string, readonly string[]>>;

/** Pattern rule only: equality, `*`, or trailing-`*` prefix. */
export function patternCovers(granted: string, wanted: string): boolean {
  // An empty string is no scope (§5), so nothing grants it, not even `*`.
  if (wanted.length === 0) return false;
  if (granted === wanted) return true;
  const last = granted.length - 1;
  if (last < 0 || granted.charCodeAt(last) !== 42 /* '*' */) return false;
  // The wanted scope (or pattern) must extend the granted prefix; a wanted
  // pattern's own `*` is then a narrower-or-equal pattern.
  return wanted.startsWith(granted.slice(0, last));
}

/** Bound on memoised closures: granted scopes come from untrusted tokens too. */
const MAX_MEMO = 10_000;

/**
 * Scope coverage with an implication map. Build one per policy and reuse it:
 * closures of granted scopes are memoised.
 */
export class ScopeMatcher {
  private readonly implications: ReadonlyMap<string, readonly string[]>;
  private readonly patternKeys: readonly string[];
  private readonly memo = new Map<string, readonly string[]>();

  constructor(implications: ImplicationMap = {}) {
    const m = new Map<string, readonly string[]>();
    for (const [k, v] of Object.entries(implications)) m.set(k, [...v]);
    this.implications = m;
    this.patternKeys = [...m.keys()];
  }

  /** Everything `granted` grants: itself plus every implied scope, transitively. */
  closure(granted: string): readonly string[] {
    const hit = this.memo.get(granted);
    if (hit) return hit;
    const seen = new Set<string>([granted]);
    const stack = [granted];
    while (stack.length > 0) {
      const s = stack.pop() as string;
      // A pattern grants every implication key it covers (`cloud:*` grants
      // what `cloud:read` implies); a plain scope only its own entry.
      const keys = s.endsWith('*') ? this.patternKeys.filter((k) => patternCovers(s, k)) : this.implications.has(s) ? [s] : [];
      for (const k of keys) {
        for (const implied of this.implications.get(k) ?? []) {
          if (!seen.has(implied)) {
            seen.add(implied);
            stack.push(implied);
          }
        }
      }
    }
    const out = [...seen];
    if (this.memo.size >= MAX_MEMO) this.memo.clear();
    this.memo.set(granted, out);
    return out;
  }

  /** Does `granted` cover `wanted`? */
  covers(granted: string, wanted: string): boolean {
    if (patternCovers(granted, wanted)) return true;
    if (this.implications.size === 0) return false;
    for (const s of this.closure(granted)) if (patternCovers(s, wanted)) return true;
    return false;
  }

  /** Is `wanted` covered by at least one of `granted`? */
  coveredBy(granted: readonly string[], wanted: string): boolean {
    for (const g of granted) if (this.covers(g, wanted)) return true;
    return false;
  }

  /** Is every scope of `child` covered by some scope of `parent`? */
  isSubset(child: readonly string[], parent: readonly string[]): boolean {
    for (const w of child) if (!this.coveredBy(parent, w)) return false;
    return true;
  }

  /** The scopes of `child` that `parent` does not cover (empty when a subset). */
  uncovered(child: readonly string[], parent: readonly string[]): string[] {
    return child.filter((w) => !this.coveredBy(parent, w));
  }
}

const PLAIN = new ScopeMatcher();

/** `covers` with an optional implication map (compiled per call: prefer a ScopeMatcher on hot paths). */
export function covers(granted: string, wanted: string, implications?: ImplicationMap): boolean {
  return (implications ? new ScopeMatcher(implications) : PLAIN).covers(granted, wanted);
}

/** `isSubset` with an optional implication map. */
export function isSubset(child: readonly string[], parent: readonly string[], implications?: ImplicationMap): boolean {
  return (implications ? new ScopeMatcher(implications) : PLAIN).isSubset(child, parent);
}
