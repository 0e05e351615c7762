import type { ClickHouseClient } from '@clickhouse/client';

export interface BatchWriterOptions {
  /** Flush when this many rows are waiting, even if the writer would linger. */
  maxRows: number;
  /**
   * How long an idle writer lingers for more rows before it inserts (0: at the
   * end of the current event-loop turn). While an insert is in flight, rows
   * wait for it and go out together as soon as it completes (group commit).
   */
  maxDelayMs: number;
  onFlush?: (table: string, rows: number, seconds: number) => void;
  onError?: (table: string, err: unknown) => void;
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Coalesces rows from many callers into few INSERTs. `write` resolves only once
 * the INSERT that carried its rows was acknowledged, which is what lets a
 * source acknowledge upstream (HTTP 200, Kafka commit) without losing data.
 * One INSERT is in flight at a time per writer: chdb serialises queries per
 * connection anyway, and it keeps batches large under load.
 */
export class BatchWriter<Row> {
  private pending: Row[] = [];
  private waiters: Waiter[] = [];
  /** Cancels the scheduled flush, when one is scheduled. */
  private cancelScheduled: (() => void) | undefined;
  private inFlight: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly client: ClickHouseClient,
    readonly table: string,
    private readonly opts: BatchWriterOptions,
  ) {}

  write(rows: Row[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`writer for ${this.table} is closed`));
    if (rows.length === 0) return Promise.resolve();
    for (const r of rows) this.pending.push(r);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.pending.length >= this.opts.maxRows) this.kick();
    else if (!this.inFlight) this.schedule();
    return done;
  }

  /** Flushes everything waiting now and resolves when it is stored. */
  async flush(): Promise<void> {
    while (this.pending.length > 0 || this.inFlight) {
      this.kick();
      await this.inFlight?.catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private kick(): void {
    this.cancelScheduled?.();
    this.cancelScheduled = undefined;
    if (this.inFlight || this.pending.length === 0) return;
    const rows = this.pending;
    const waiters = this.waiters;
    this.pending = [];
    this.waiters = [];
    const started = process.hrtime.bigint();
    this.inFlight = this.client
      .insert({ table: this.table, values: rows, format: 'JSONEachRow' })
      .then(
        () => {
          this.opts.onFlush?.(this.table, rows.length, Number(process.hrtime.bigint() - started) / 1e9);
          for (const w of waiters) w.resolve();
        },
        (err: unknown) => {
          // Nothing of this batch counts as stored: every caller hears of it and may retry.
          this.opts.onError?.(this.table, err);
          for (const w of waiters) w.reject(err);
        },
      )
      .finally(() => {
        this.inFlight = undefined;
        // Rows that arrived meanwhile have waited a whole insert already: send them now.
        if (this.pending.length > 0) this.kick();
      });
  }

  private schedule(): void {
    if (this.cancelScheduled) return;
    if (this.opts.maxDelayMs > 0) {
      const t = setTimeout(() => this.kick(), this.opts.maxDelayMs);
      this.cancelScheduled = () => clearTimeout(t);
    } else {
      const i = setImmediate(() => this.kick());
      this.cancelScheduled = () => clearImmediate(i);
    }
  }
}
