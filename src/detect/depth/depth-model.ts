/**
 * The usual depth of chains per (tenant, root agent type): the deepest depth
 * seen on a verified chain within forget-after. Depths are small integers
 * with spiky distributions (almost every chain of a type has the same one or
 * two depths), so a quantile would either flag a legitimate depth seen twice
 * a week or hide a new one; "deeper than ever seen lately" is the first-seen
 * rule applied to an ordered value, shares its learning and forgetting, and
 * explains itself ("usually at most 3, this one 5"). Pure.
 */
import { LRUCache } from 'lru-cache';

export interface DepthJudgement {
  /** The deepest usual depth before this sighting; undefined when the root type has no history. */
  usualMax: number | undefined;
  /** Deeper than usual + margin. */
  unusual: boolean;
}

export class DepthModel {
  /** (tenant, root type) → depth → last seen (ms). */
  private readonly groups: LRUCache<string, Map<number, number>>;

  constructor(
    private readonly forgetAfterMs: number,
    private readonly margin: number,
    maxGroups: number,
  ) {
    this.groups = new LRUCache({ max: maxGroups });
  }

  /** The deepest depth seen within forget-after before `now`. */
  usualMax(tenant: string, rootType: string, now: number): number | undefined {
    const g = this.groups.peek(groupKey(tenant, rootType));
    let max: number | undefined;
    if (g) for (const [depth, last] of g) if (now - last <= this.forgetAfterMs && (max === undefined || depth > max)) max = depth;
    return max;
  }

  /**
   * Judges a chain's depth and records it. A depth within the margin is not
   * learned, so the usual depth cannot creep up a margin at a time without
   * ever alerting; a depth that alerted is learned (it alerts once). While
   * learning everything is learned.
   */
  judge(tenant: string, rootType: string, depth: number, now: number, learning: boolean): DepthJudgement {
    const usualMax = this.usualMax(tenant, rootType, now);
    const unusual = !learning && usualMax !== undefined && depth > usualMax + this.margin;
    if (learning || usualMax === undefined || depth <= usualMax || unusual) this.teach(tenant, rootType, depth, now);
    return { usualMax, unusual };
  }

  teach(tenant: string, rootType: string, depth: number, atMs: number): void {
    const k = groupKey(tenant, rootType);
    let g = this.groups.get(k);
    if (g === undefined) this.groups.set(k, (g = new Map()));
    g.set(depth, Math.max(g.get(depth) ?? atMs, atMs));
  }

  get size(): number {
    return this.groups.size;
  }
}

function groupKey(tenant: string, rootType: string): string {
  return `${tenant}\u0000${rootType}`;
}
