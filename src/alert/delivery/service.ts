/**
 * Alert delivery in a process: the outbox every processor feeds, and — in
 * the one process whose dispatch role is on — the dispatcher and the feed
 * from the alert store's changes. `notify` enqueues directly (in-process
 * callers); `follow` polls a change source.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { sleep } from '../../ingest/kafka-backoff.js';
import type { RevocationStore } from '../../revoke/store.js';
import type { ResponseConfig } from '../response/config.js';
import { idempotencyKey, type AlertChange, type AlertChangeSource } from './change.js';
import type { DeliveryConfig, DeliverySecrets } from './config.js';
import { buildDestinations } from './destinations.js';
import { Dispatcher, type DispatchLogger, type DestinationStatus } from './dispatcher.js';
import type { DeliveryMetrics } from './metrics.js';
import { OutboxStore } from './outbox-store.js';
import { DispatchLease } from './lease.js';

/** Dispatchers beat every 5 s; one silent for 15 s is gone and the next takes over. */
const LEASE = { heartbeatMs: 5_000, expiryMs: 15_000 };

export interface AlertDeliveryOptions {
  client: ClickHouseClient;
  database: string;
  delivery: DeliveryConfig;
  secrets: DeliverySecrets;
  response: ResponseConfig;
  revocations: RevocationStore;
  /** Whether this process dispatches (CHAINSIGHT_ALERT_DISPATCH; exactly one per deployment). */
  dispatch: boolean;
  logger: DispatchLogger;
  metrics?: DeliveryMetrics;
  /** Lease timings (tests shorten them). */
  lease?: { heartbeatMs: number; expiryMs: number };
  /** Close `client` on stop (the service opened it for itself). */
  ownsClient?: boolean;
  now?: () => number;
}

export class AlertDelivery {
  readonly outbox: OutboxStore;
  readonly dispatcher: Dispatcher | undefined;
  private following: { stop: AbortController; done: Promise<void> } | undefined;
  private feedWake: AbortController | undefined;
  /** A poke arrived since the current poll began: poll again without sleeping. */
  private poked = false;

  constructor(private readonly opts: AlertDeliveryOptions) {
    this.outbox = new OutboxStore(opts.client, opts.database);
    const destinations = buildDestinations(opts.delivery, opts.secrets, opts.response, opts);
    this.dispatcher =
      opts.dispatch && destinations.length > 0
        ? new Dispatcher(this.outbox, destinations, {
            ...opts.delivery,
            logger: opts.logger,
            lease: new DispatchLease(opts.client, opts.database, { ...LEASE, ...opts.lease, logger: opts.logger }),
            ...(opts.metrics ? { metrics: opts.metrics } : {}),
            ...(opts.now ? { now: opts.now } : {}),
          })
        : undefined;
  }

  start(): void {
    this.dispatcher?.start();
  }

  /** Enqueues changes (idempotent) and cuts the dispatcher's wait short. */
  async notify(changes: readonly AlertChange[]): Promise<void> {
    if (changes.length === 0) return;
    await this.outbox.enqueue(changes);
    this.dispatcher?.wake();
  }

  /** Polls the source from `cursor` every poll interval and enqueues what it returns; only the dispatching process needs to. */
  follow(source: AlertChangeSource, cursor = ''): void {
    if (this.following) return;
    const stop = new AbortController();
    const done = (async () => {
      let at = cursor;
      // Keys enqueued lately: a change answered again by the next poll (the feed reads behind its cursor) is not inserted again.
      const recent = new Set<string>();
      while (!stop.signal.aborted) {
        this.poked = false;
        try {
          const page = await source.changesSince(at, this.opts.delivery.batchSize);
          const fresh = page.changes.filter((c) => !recent.has(idempotencyKey(c)));
          await this.notify(fresh);
          for (const c of fresh) recent.add(idempotencyKey(c));
          while (recent.size > 10_000) recent.delete(recent.values().next().value!);
          at = page.cursor;
          if (page.changes.length >= this.opts.delivery.batchSize) continue;
        } catch (err) {
          this.opts.logger.warn({ error: err instanceof Error ? err.message : String(err) }, 'alert change feed unavailable');
        }
        if (this.poked) continue;
        this.feedWake = new AbortController();
        await sleep(this.opts.delivery.pollIntervalMs, AbortSignal.any([stop.signal, this.feedWake.signal]));
      }
    })();
    this.following = { stop, done };
  }

  /** New alert rows were stored: poll the change source now rather than at the next interval. */
  poke(): void {
    this.poked = true;
    this.feedWake?.abort();
  }

  status(): DestinationStatus[] {
    return this.dispatcher?.status() ?? [];
  }

  async stop(): Promise<void> {
    this.following?.stop.abort();
    await this.following?.done;
    this.following = undefined;
    await this.dispatcher?.stop();
    if (this.opts.ownsClient) await this.opts.client.close();
  }
}
