/**
 * Delivers the outbox to every destination. Per destination, notifications
 * go one at a time in transition order; the first failure stops that
 * destination until its backoff (exponential, capped, jittered) has passed,
 * which keeps an alert's resolution behind its firing. Each accepted
 * notification is recorded at once, and a recorded one is never sent to that
 * destination again, across restarts. What cannot be made atomic: a crash
 * after the destination accepted and before the record lands sends it again
 * at the next start, under the same idempotency key (at-least-once).
 *
 * One dispatcher per deployment delivers (schemas/alert-delivery.md §4):
 * two would each send what neither has recorded yet. With a lease, extra
 * dispatchers stand by instead.
 */
import { backoffDelay, sleep, type BackoffPolicy } from '../../ingest/kafka-backoff.js';
import type { Destination, OutboxEntry } from './destination.js';
import type { DeliveryMetrics } from './metrics.js';
import type { DeliveryRecord, OutboxStore } from './outbox-store.js';

export interface DispatchLogger {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
}

export interface DispatcherOptions {
  pollIntervalMs: number;
  batchSize: number;
  retry: BackoffPolicy;
  giveUpAfterMs: number;
  logger: DispatchLogger;
  metrics?: DeliveryMetrics;
  /** When several dispatchers may run: only the one holding the lease delivers (lease.ts). */
  lease?: { readonly leader: boolean; start(): void; stop(): Promise<void> };
  now?: () => number;
  random?: () => number;
}

/** Where one destination stands; what `status()` reports. */
export interface DestinationStatus {
  name: string;
  delivered: number;
  abandoned: number;
  /** Consecutive failed attempts (0: healthy). */
  failures: number;
  /** When it will be tried again (ms), 0 when not backing off. */
  retryAtMs: number;
  lastError: string;
}

interface State extends DestinationStatus {
  /** Accepted by the destination but not yet recorded (the store was down): recorded first, never sent again by this process. */
  unrecorded: Map<string, DeliveryRecord>;
}

export class Dispatcher {
  private readonly states: State[];
  private readonly now: () => number;
  private readonly random: () => number;
  private stopping = new AbortController();
  private wakeUp: AbortController | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly store: OutboxStore,
    private readonly destinations: readonly Destination[],
    private readonly opts: DispatcherOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.states = destinations.map((d) => ({ name: d.name, delivered: 0, abandoned: 0, failures: 0, retryAtMs: 0, lastError: '', unrecorded: new Map() }));
  }

  status(): DestinationStatus[] {
    return this.states.map(({ unrecorded: _u, ...s }) => ({ ...s }));
  }

  /** One pass over every destination not backing off; destinations run side by side so a slow one holds back no other. */
  async runOnce(): Promise<void> {
    if (!this.leads()) return;
    await Promise.all(this.destinations.map((d, i) => this.pass(d, this.states[i]!)));
  }

  private leads(): boolean {
    return this.opts.lease === undefined || this.opts.lease.leader;
  }

  private async pass(dest: Destination, st: State): Promise<void> {
    if (this.now() < st.retryAtMs) return;
    try {
      await this.flushUnrecorded(st);
      const read = await this.store.pending(dest.name, this.opts.batchSize);
      if (read.unreadable.length > 0) {
        for (const u of read.unreadable) this.opts.logger.error({ destination: dest.name, key: u.key, error: u.error }, 'outbox entry unreadable: recorded, not delivered');
        await this.store.record(read.unreadable.map((u) => ({ key: u.key, destination: dest.name, outcome: 'unreadable' as const, attempts: 0, detail: u.error })));
        for (const _ of read.unreadable) this.opts.metrics?.outcome(dest.name, 'unreadable');
      }
      for (const entry of read.entries) {
        if (st.unrecorded.has(entry.key)) continue;
        // Stops mid-batch when another dispatcher took the lease or this one is stopping.
        if (this.stopping.signal.aborted || !this.leads()) return;
        if (!(await this.deliverOne(dest, st, entry))) return;
      }
    } catch (err) {
      // The store failed (reading pending or recording): the next pass tries again.
      this.opts.logger.warn({ destination: dest.name, error: errorText(err) }, 'alert outbox unavailable');
    }
  }

  /** False when the destination failed and is now backing off. */
  private async deliverOne(dest: Destination, st: State, entry: OutboxEntry): Promise<boolean> {
    const attempts = st.failures + 1;
    try {
      await dest.deliver(entry);
    } catch (err) {
      st.lastError = errorText(err);
      const now = this.now();
      if (now - entry.enqueuedAtMs >= this.opts.giveUpAfterMs) {
        this.opts.logger.error({ destination: dest.name, key: entry.key, alertId: entry.change.id, error: st.lastError }, 'alert notification abandoned after the give-up time');
        st.abandoned += 1;
        this.opts.metrics?.outcome(dest.name, 'abandoned');
        await this.record(st, { key: entry.key, destination: dest.name, outcome: 'abandoned', attempts, detail: st.lastError });
        return true;
      }
      st.failures += 1;
      this.opts.metrics?.outcome(dest.name, 'failed');
      this.opts.metrics?.failing(dest.name, st.failures);
      st.retryAtMs = now + backoffDelay(st.failures - 1, this.opts.retry, this.random);
      this.opts.logger.warn({ destination: dest.name, failures: st.failures, retryInMs: st.retryAtMs - now, error: st.lastError }, 'alert delivery failed, will retry');
      return false;
    }
    if (st.failures > 0) this.opts.logger.info({ destination: dest.name, after: st.failures }, 'alert destination recovered');
    st.failures = 0;
    st.retryAtMs = 0;
    st.delivered += 1;
    this.opts.metrics?.outcome(dest.name, 'delivered');
    this.opts.metrics?.failing(dest.name, 0);
    await this.record(st, { key: entry.key, destination: dest.name, outcome: 'delivered', attempts, detail: '' });
    return true;
  }

  private async record(st: State, r: DeliveryRecord): Promise<void> {
    st.unrecorded.set(r.key, r);
    await this.store.record([r]);
    st.unrecorded.delete(r.key);
  }

  private async flushUnrecorded(st: State): Promise<void> {
    if (st.unrecorded.size === 0) return;
    const rows = [...st.unrecorded.values()];
    await this.store.record(rows);
    for (const r of rows) st.unrecorded.delete(r.key);
  }

  /** Runs passes until stop(): every poll interval, or sooner when a backoff ends or wake() is called. */
  start(): void {
    if (this.loop) return;
    this.stopping = new AbortController();
    this.opts.lease?.start();
    this.loop = (async () => {
      while (!this.stopping.signal.aborted) {
        await this.runOnce();
        const now = this.now();
        const retries = this.states.filter((s) => s.retryAtMs > now).map((s) => s.retryAtMs - now);
        const idle = this.states.every((s) => s.retryAtMs <= now) ? this.opts.pollIntervalMs : Math.min(this.opts.pollIntervalMs, ...retries);
        this.wakeUp = new AbortController();
        await sleep(Math.max(idle, 5), AbortSignal.any([this.stopping.signal, this.wakeUp.signal]));
      }
    })();
  }

  /** Cuts the current wait short (new notifications were enqueued). */
  wake(): void {
    this.wakeUp?.abort();
  }

  /** Stops after the notification in flight, then closes the destinations. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    this.loop = undefined;
    await this.opts.lease?.stop();
    await Promise.allSettled(this.destinations.map((d) => d.close()));
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
