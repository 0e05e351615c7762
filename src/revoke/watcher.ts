/**
 * Keeps a processor's revocation set current: polls the revocations table
 * every `pollMs` for rows inserted since its high-water mark (minus an overlap,
 * for inserts that commit out of order or on another node's clock), and
 * swaps in a new set, with a new version, when anything changed.
 */
import { RevocationSet, inForce } from './revocation-set.js';
import type { RevocationStore, StoredRevocation } from './store.js';

export interface RevocationWatcherOptions {
  pollMs: number;
  /** How far before the high-water mark each poll reads again (default 5 s). */
  overlapMs?: number;
  /** How long past its expiry a revocation stays in force: the span age bound plus skew. */
  graceMs: number;
  /** A revocation inserted while this processor runs, first seen, and when (not those of the first load). */
  onApplied?(r: StoredRevocation, appliedAtMs: number): void;
  /** A poll failed; the last set stays in force and the next poll retries. */
  onError?(err: unknown): void;
  now?: () => number;
}

export class RevocationWatcher {
  private readonly known = new Map<string, StoredRevocation>();
  private highWaterMs = 0;
  private set: RevocationSet = RevocationSet.EMPTY;
  private version = 0;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private closed = false;
  private loaded = false;

  constructor(
    private readonly store: RevocationStore,
    private readonly opts: RevocationWatcherOptions,
  ) {}

  /** The revocations in force now. */
  current(): RevocationSet {
    return this.set;
  }

  /** Loads every revocation (awaited: no span is judged before), then polls. */
  async start(): Promise<void> {
    await this.poll();
    const tick = () => {
      if (this.closed) return;
      this.polling = this.poll()
        .catch((err: unknown) => this.opts.onError?.(err))
        .finally(() => {
          this.polling = undefined;
          if (!this.closed) this.timer = setTimeout(tick, this.opts.pollMs).unref();
        });
    };
    this.timer = setTimeout(tick, this.opts.pollMs).unref();
  }

  /** One poll: new rows in, expired ones out; a new set only when something changed. */
  async poll(): Promise<void> {
    const now = this.opts.now ?? Date.now;
    const rows = await this.store.since(this.highWaterMs === 0 ? 0 : this.highWaterMs - (this.opts.overlapMs ?? 5000));
    let changed = false;
    const appliedAt = now();
    for (const r of rows) {
      if (r.insertedAtMs > this.highWaterMs) this.highWaterMs = r.insertedAtMs;
      if (this.known.has(r.id)) continue;
      this.known.set(r.id, r);
      changed = true;
      if (this.loaded) this.opts.onApplied?.(r, appliedAt);
    }
    this.loaded = true;
    const live = [...this.known.values()].filter((r) => inForce(r, appliedAt, this.opts.graceMs));
    if (changed || live.length !== this.set.size) this.set = new RevocationSet(live, ++this.version);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.polling;
  }
}
