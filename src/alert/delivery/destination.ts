/**
 * A destination receives outbox entries one at a time, in order. `deliver`
 * resolves once the destination has accepted the notification (then the
 * dispatcher records it delivered) and rejects when it did not (then the
 * dispatcher retries later). It must be safe to call again with the same
 * entry: the idempotency key travels with it so the receiver can drop the
 * duplicate a crash between send and record can cause.
 */
import type { AlertChange } from './change.js';

export interface OutboxEntry {
  /** Idempotency key (change.ts idempotencyKey). */
  key: string;
  change: AlertChange;
  enqueuedAtMs: number;
}

export interface Destination {
  readonly name: string;
  deliver(entry: OutboxEntry): Promise<void>;
  close(): Promise<void>;
}
