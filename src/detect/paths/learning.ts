/**
 * "First seen" memory, the way mature new-value rules keep it: a learning
 * period per tenant (nothing alerts while the tenant's baseline is being
 * learned, counted from the first time the tenant was seen), and a
 * forget-after window (a value not seen for that long is new again). Pure:
 * every method takes the time, so tests and restarts replay exactly.
 */
import { LRUCache } from 'lru-cache';

export interface LearningWindows {
  /** How long after a tenant is first seen nothing alerts (0: alert from the first chain). */
  learningMs: number;
  /** A value (and a tenant) not seen for this long is new again. */
  forgetAfterMs: number;
}

/**
 * When each tenant was first and last seen. A tenant silent for longer than
 * forget-after has forgotten every value too, so it learns again rather than
 * raising a storm. Bounded: past `maxTenants`, a tenant not yet tracked is
 * judged as past learning (alerts fire), because an attacker who could crowd
 * tenants out must not buy a learning period by doing so.
 */
export class TenantClock {
  private readonly tenants = new Map<string, { firstMs: number; lastMs: number }>();

  constructor(
    private readonly windows: LearningWindows,
    private readonly maxTenants = 10_000,
  ) {}

  /** Records a sighting at `atMs` (baseline rows or the stream) and says whether the tenant is still learning. */
  see(tenant: string, atMs: number, firstMs = atMs): boolean {
    const t = this.tenants.get(tenant);
    if (t === undefined) {
      if (this.tenants.size >= this.maxTenants) return false;
      this.tenants.set(tenant, { firstMs: Math.min(firstMs, atMs), lastMs: atMs });
      return atMs - firstMs < this.windows.learningMs;
    }
    if (atMs - t.lastMs > this.windows.forgetAfterMs) t.firstMs = Math.min(firstMs, atMs);
    else t.firstMs = Math.min(t.firstMs, firstMs);
    t.lastMs = Math.max(t.lastMs, atMs);
    return atMs - t.firstMs < this.windows.learningMs;
  }

  /** When the tenant's learning ends (ms), or undefined when it is not tracked. */
  learnedAt(tenant: string): number | undefined {
    const t = this.tenants.get(tenant);
    return t === undefined ? undefined : t.firstMs + this.windows.learningMs;
  }

  get size(): number {
    return this.tenants.size;
  }
}

/** Characters of key allowed per remembered value on average: several times a typical edge's. */
export const AVERAGE_KEY_BUDGET = 512;

/**
 * Values with when each was last seen, bounded by an LRU: past `maxKeys` the
 * value seen least recently is dropped, and if it comes back it is new again
 * and alerts again — under the same derived alert id, so the alert store
 * folds it into the alert already raised. Over the bound detection errs on
 * the side of alerting, never of silence.
 */
export class FirstSeenMemory {
  private readonly last: LRUCache<string, number>;
  /** Values dropped to stay under the bound (for metrics and sizing). */
  evicted = 0;

  constructor(
    private readonly forgetAfterMs: number,
    maxKeys: number,
  ) {
    this.last = new LRUCache<string, number>({
      max: maxKeys,
      // Keys are as long as the agent IDs in them (a path shape of 32 types can
      // reach 64 KiB), so the bound is also on their total length.
      maxSize: maxKeys * AVERAGE_KEY_BUDGET,
      sizeCalculation: (_v, k) => k.length + 1,
      dispose: (_v, _k, reason) => {
        if (reason === 'evict') this.evicted++;
      },
    });
  }

  /** Whether `key` was seen within forget-after before `atMs`; records the sighting either way. */
  see(key: string, atMs: number): boolean {
    const last = this.last.get(key);
    const known = last !== undefined && atMs - last <= this.forgetAfterMs;
    this.last.set(key, last === undefined ? atMs : Math.max(last, atMs));
    return known;
  }

  /** Teaches a sighting at `atMs` without asking (the baseline from the store). */
  teach(key: string, atMs: number): void {
    const last = this.last.get(key);
    this.last.set(key, last === undefined ? atMs : Math.max(last, atMs));
  }

  /** Last sighting of `key`, if remembered. */
  lastSeen(key: string): number | undefined {
    return this.last.peek(key);
  }

  get size(): number {
    return this.last.size;
  }
}

/** One key per (tenant, kind, subject); NUL cannot occur in a SPIFFE ID or a trust domain. */
export function memoryKey(tenant: string, kind: string, subject: string): string {
  return `${tenant}\u0000${kind}\u0000${subject}`;
}
