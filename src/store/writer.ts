import type { ClickHouseClient } from '@clickhouse/client';
import { classifyStoreError, type RefusedRow, type StoreError } from './errors.js';

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
  /** A transient failure: nothing of the batch is stored, every caller hears of it. */
  onError?: (table: string, err: StoreError) => void;
  /** Rows refused for good after splitting, each with its own error. */
  onRefused?: (table: string, refused: number, err: StoreError) => void;
}

/**
 * Settings for every INSERT. A JSON string with a lone UTF-16 surrogate (which
 * JSON.parse accepts, e.g. from a token's claims) would otherwise fail the
 * whole INSERT with CANNOT_PARSE_ESCAPE_SEQUENCE; kept as sent instead.
 */
const INSERT_SETTINGS = { input_format_json_throw_on_bad_escape_sequence: 0 } as const;

interface Waiter<Row> {
  /** The caller's rows are [start, end) of the batch. */
  start: number;
  end: number;
  resolve: (refused: RefusedRow<Row>[]) => void;
  reject: (err: unknown) => void;
}

/**
 * Coalesces rows from many callers into few INSERTs. `write` resolves only once
 * the INSERT that carried its rows was acknowledged, which is what lets a
 * source acknowledge upstream (HTTP 200, Kafka commit) without losing data.
 * One INSERT is in flight at a time per writer: chdb serialises queries per
 * connection anyway, and it keeps batches large under load.
 *
 * Poison isolation: when ClickHouse refuses a batch for a permanent reason
 * (the data, not the store), the batch is split in halves until the rows at
 * fault are alone; everything else is stored, and each caller learns which of
 * its own rows were refused (resolved, not rejected). Only a transient failure
 * rejects, and then it rejects every caller of the batch: the store is down
 * for all of them alike.
 */
export class BatchWriter<Row> {
  private pending: Row[] = [];
  private waiters: Waiter<Row>[] = [];
  /** Cancels the scheduled flush, when one is scheduled. */
  private cancelScheduled: (() => void) | undefined;
  private inFlight: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly client: ClickHouseClient,
    readonly table: string,
    private readonly opts: BatchWriterOptions,
  ) {}

  /** Resolves with the rows refused for good (empty when all were stored); rejects when the store is unavailable. */
  write(rows: Row[]): Promise<RefusedRow<Row>[]> {
    if (this.closed) return Promise.reject(new Error(`writer for ${this.table} is closed`));
    if (rows.length === 0) return Promise.resolve([]);
    const start = this.pending.length;
    for (const r of rows) this.pending.push(r);
    const done = new Promise<RefusedRow<Row>[]>((resolve, reject) =>
      this.waiters.push({ start, end: this.pending.length, resolve, reject }),
    );
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
    this.inFlight = this.store(rows)
      .then(
        (refused) => {
          for (const w of waiters) w.resolve(refused.size === 0 ? [] : refusedOf(rows, w, refused));
        },
        (err: unknown) => {
          // Nothing of this batch counts as stored: every caller hears of it and may retry.
          const e = classifyStoreError(err);
          this.opts.onError?.(this.table, e);
          for (const w of waiters) w.reject(e);
        },
      )
      .finally(() => {
        this.inFlight = undefined;
        // Rows that arrived meanwhile have waited a whole insert already: send them now.
        if (this.pending.length > 0) this.kick();
      });
  }

  /** Stores rows, splitting around permanent refusals; the refused rows' positions, with their errors. */
  private async store(rows: Row[]): Promise<Map<number, StoreError>> {
    const refused = new Map<number, StoreError>();
    await this.insertOrSplit(rows, 0, rows.length, refused);
    if (refused.size > 0 && this.opts.onRefused) {
      const byCode = new Map<string, { rows: number; first: StoreError }>();
      for (const e of refused.values()) {
        const c = byCode.get(e.code);
        if (c) c.rows++;
        else byCode.set(e.code, { rows: 1, first: e });
      }
      for (const { rows: n, first } of byCode.values()) this.opts.onRefused(this.table, n, first);
    }
    return refused;
  }

  /**
   * Isolates the refused rows. ClickHouse names the row a parse error is at
   * ("(at row N)", 1-based within the INSERT, exact in measurements up to
   * 100k rows): the rows before it are sent on their own, that row alone
   * (refused only if it fails alone too, so a wrong hint costs nothing but an
   * INSERT), then the rest. Errors without a row (a constraint, too many
   * partitions) are bisected: about 2·log2(n) INSERTs per bad row. A
   * transient error anywhere aborts the split and fails the batch (rows stored
   * by earlier parts are stored twice on retry, which the tables fold away).
   */
  private async insertOrSplit(rows: Row[], lo: number, hi: number, refused: Map<number, StoreError>): Promise<void> {
    let error: StoreError;
    try {
      await this.insert(lo === 0 && hi === rows.length ? rows : rows.slice(lo, hi));
      return;
    } catch (err) {
      error = classifyStoreError(err);
      if (!error.permanent) throw error;
    }
    if (hi - lo === 1) {
      refused.set(lo, error);
      return;
    }
    const at = rowHint(error.message, hi - lo);
    if (at !== undefined) {
      const c = lo + at;
      if (c > lo) await this.insertOrSplit(rows, lo, c, refused);
      await this.insertOrSplit(rows, c, c + 1, refused);
      if (c + 1 < hi) await this.insertOrSplit(rows, c + 1, hi, refused);
      return;
    }
    const mid = (lo + hi) >>> 1;
    await this.insertOrSplit(rows, lo, mid, refused);
    await this.insertOrSplit(rows, mid, hi, refused);
  }

  private async insert(values: Row[]): Promise<void> {
    const started = process.hrtime.bigint();
    await this.client.insert({ table: this.table, values, format: 'JSONEachRow', clickhouse_settings: INSERT_SETTINGS });
    this.opts.onFlush?.(this.table, values.length, Number(process.hrtime.bigint() - started) / 1e9);
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

/** The 0-based position of the row a ClickHouse parse error names, when it is inside an INSERT of n rows. */
export function rowHint(message: string, n: number): number | undefined {
  const m = /\(at row (\d+)\)/.exec(message);
  if (!m) return undefined;
  const row = Number(m[1]);
  return row >= 1 && row <= n ? row - 1 : undefined;
}

function refusedOf<Row>(rows: Row[], w: Waiter<Row>, refused: Map<number, StoreError>): RefusedRow<Row>[] {
  const out: RefusedRow<Row>[] = [];
  for (let i = w.start; i < w.end; i++) {
    const error = refused.get(i);
    if (error !== undefined) out.push({ row: rows[i]!, index: i - w.start, error });
  }
  return out;
}
