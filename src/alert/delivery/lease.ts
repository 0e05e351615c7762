/**
 * Which dispatcher delivers, when several run (a second one started by
 * mistake, or a standby). Each beats into `alert_dispatchers` (migration 010)
 * every `heartbeatMs`; the live ones (a beat within `expiryMs`) are ranked by
 * start time, then instance id, and the first delivers while the others
 * stand by. When it stops beating, the next takes over within `expiryMs`.
 * Every dispatcher reads the same rows, so they agree; while one has not yet
 * seen another (within one beat), both may deliver, under the same
 * idempotency keys.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { ClickHouseClient } from '@clickhouse/client';
import { sleep } from '../../ingest/kafka-backoff.js';

export interface LiveDispatcher {
  instance: string;
  host: string;
  startedAtMs: number;
}

/** The dispatcher that delivers among the live ones: started first, ties by instance id. */
export function leaderOf(live: readonly LiveDispatcher[]): LiveDispatcher | undefined {
  return [...live].sort((a, b) => a.startedAtMs - b.startedAtMs || (a.instance < b.instance ? -1 : a.instance > b.instance ? 1 : 0))[0];
}

export interface LeaseLogger {
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
}

export interface LeaseOptions {
  heartbeatMs: number;
  expiryMs: number;
  logger: LeaseLogger;
  instance?: string;
  now?: () => number;
}

export class DispatchLease {
  readonly instance: string;
  private readonly startedAtMs: number;
  private leading = false;
  private lastLive = 1;
  private stopping = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly client: ClickHouseClient,
    private readonly db: string,
    private readonly opts: LeaseOptions,
  ) {
    this.instance = opts.instance ?? randomUUID();
    this.startedAtMs = this.now();
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** Whether this dispatcher delivers, as of its last beat. */
  get leader(): boolean {
    return this.leading;
  }

  /** Beats every heartbeatMs on its own timer, so a long delivery pass never delays a beat. */
  start(): void {
    if (this.loop) return;
    this.stopping = new AbortController();
    this.loop = (async () => {
      while (!this.stopping.signal.aborted) {
        await this.beat();
        await sleep(this.opts.heartbeatMs, this.stopping.signal);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    this.loop = undefined;
    this.leading = false;
  }

  /**
   * One beat: record this dispatcher alive, read the live ones, decide. A
   * dispatcher that sees another alive waits out one expiry from its own
   * start before it may lead, so the one already delivering has several beats
   * to see it and stand by first. A beat that fails keeps the last answer.
   */
  async beat(): Promise<boolean> {
    try {
      await this.client.insert({
        table: `${this.db}.alert_dispatchers`,
        format: 'JSONEachRow',
        values: [{ instance: this.instance, host: `${hostname()} pid ${process.pid}`, started_at: this.startedAtMs }],
      });
      const rs = await this.client.query({
        query: `SELECT instance, any(host) AS host, toUnixTimestamp64Milli(min(started_at)) AS started
                FROM ${this.db}.alert_dispatchers GROUP BY instance
                HAVING max(seen_at) > now64(3) - toIntervalMillisecond({expiry:UInt32})`,
        query_params: { expiry: this.opts.expiryMs },
        format: 'JSONEachRow',
      });
      const live = (await rs.json<{ instance: string; host: string; started: string }>()).map((r) => ({ instance: r.instance, host: r.host, startedAtMs: Number(r.started) }));
      const leader = leaderOf(live);
      const was = this.leading;
      const warmedUp = live.length <= 1 || this.now() - this.startedAtMs >= this.opts.expiryMs;
      this.leading = leader?.instance === this.instance && (was || warmedUp);
      if (live.length > 1 && live.length !== this.lastLive) {
        this.opts.logger.warn({ dispatchers: live.map((l) => l.host), delivering: leader?.host }, 'several alert dispatchers are running: one delivers, the others stand by (set CHAINSIGHT_ALERT_DISPATCH=off on all but one)');
      }
      this.lastLive = live.length;
      if (this.leading !== was) this.opts.logger.info({ instance: this.instance, delivering: this.leading }, this.leading ? 'this dispatcher delivers alerts' : 'this dispatcher stands by');
    } catch (err) {
      this.opts.logger.warn({ error: err instanceof Error ? err.message : String(err) }, 'dispatcher heartbeat failed');
    }
    return this.leading;
  }
}
