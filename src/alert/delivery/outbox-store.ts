/**
 * The outbox tables (migration 010): notifications in, what each
 * destination still lacks out, deliveries recorded. Values are query
 * parameters only.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { idempotencyKey, parseChange, type AlertChange } from './change.js';
import type { OutboxEntry } from './destination.js';

/** delivered: the destination accepted it; abandoned: retried until give-up; unreadable: its stored payload does not parse. */
export type DeliveryOutcome = 'delivered' | 'abandoned' | 'unreadable';

export interface DeliveryRecord {
  key: string;
  destination: string;
  outcome: DeliveryOutcome;
  attempts: number;
  detail: string;
}

export interface PendingRead {
  entries: OutboxEntry[];
  /** Rows whose payload does not parse, with why: recorded so they never block the queue. */
  unreadable: { key: string; enqueuedAtMs: number; error: string }[];
}

interface OutboxTuple {
  idem_key: string;
  payload: string;
  enqueued_at: string;
}

export class OutboxStore {
  constructor(
    private readonly client: ClickHouseClient,
    private readonly db: string,
  ) {}

  /** Enqueues each change under its idempotency key; the same change twice (N processors, a replay) folds into one. */
  async enqueue(changes: readonly AlertChange[]): Promise<string[]> {
    if (changes.length === 0) return [];
    const rows = changes.map((c) => ({
      idem_key: idempotencyKey(c),
      alert_id: c.id,
      status: c.status,
      transition_at: c.atMs,
      seq: c.seq,
      payload: JSON.stringify(c),
    }));
    await this.client.insert({ table: `${this.db}.alert_outbox`, format: 'JSONEachRow', values: rows });
    return rows.map((r) => r.idem_key);
  }

  /**
   * Notifications the destination has no delivery row for, in transition
   * order (an alert's firing before its resolution), each key once.
   */
  async pending(destination: string, limit: number): Promise<PendingRead> {
    const rs = await this.client.query({
      query: `SELECT idem_key, any(payload) AS payload, toUnixTimestamp64Milli(min(enqueued_at)) AS enqueued_at,
                min(transition_at) AS t, min(seq) AS s, min(status = 'resolved') AS r
              FROM ${this.db}.alert_outbox
              WHERE idem_key GLOBAL NOT IN (SELECT idem_key FROM ${this.db}.alert_deliveries WHERE destination = {d:String})
              GROUP BY idem_key
              ORDER BY t, s, r, idem_key
              LIMIT {n:UInt32}`,
      query_params: { d: destination, n: limit },
      format: 'JSONEachRow',
    });
    const out: PendingRead = { entries: [], unreadable: [] };
    for (const t of await rs.json<OutboxTuple>()) {
      const enqueuedAtMs = Number(t.enqueued_at);
      try {
        const change = parseChange(t.payload);
        if (idempotencyKey(change) !== t.idem_key) throw new Error('payload does not match its idempotency key');
        out.entries.push({ key: t.idem_key, change, enqueuedAtMs });
      } catch (err) {
        out.unreadable.push({ key: t.idem_key, enqueuedAtMs, error: err instanceof Error ? err.message : String(err) });
      }
    }
    return out;
  }

  async record(rows: readonly DeliveryRecord[]): Promise<void> {
    if (rows.length === 0) return;
    await this.client.insert({
      table: `${this.db}.alert_deliveries`,
      format: 'JSONEachRow',
      values: rows.map((r) => ({ idem_key: r.key, destination: r.destination, outcome: r.outcome, attempts: r.attempts, detail: r.detail.slice(0, 1000) })),
    });
  }

  /** Delivery rows, one per (destination, key), optionally one destination: for status and tests. */
  async deliveries(destination?: string): Promise<DeliveryRecord[]> {
    const rs = await this.client.query({
      query: `SELECT idem_key, destination, argMax(outcome, recorded_at) AS outcome, max(attempts) AS attempts, argMax(detail, recorded_at) AS detail
              FROM ${this.db}.alert_deliveries
              WHERE {all:Bool} OR destination = {d:String}
              GROUP BY destination, idem_key ORDER BY destination, idem_key`,
      query_params: { all: destination === undefined, d: destination ?? '' },
      format: 'JSONEachRow',
    });
    return (await rs.json<{ idem_key: string; destination: string; outcome: DeliveryOutcome; attempts: number; detail: string }>()).map((r) => ({
      key: r.idem_key,
      destination: r.destination,
      outcome: r.outcome,
      attempts: Number(r.attempts),
      detail: r.detail,
    }));
  }
}
