/**
 * Delivery's metrics, on the process's registry: what each destination was
 * given (delivered, failed attempts, abandoned, unreadable) and how long it
 * has been failing, so an operator alerts on a destination down before the
 * give-up time drops anything.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DeliveryOutcome } from './outbox-store.js';

export type AttemptOutcome = DeliveryOutcome | 'failed';

export interface DeliveryMetrics {
  outcome(destination: string, outcome: AttemptOutcome): void;
  failing(destination: string, consecutiveFailures: number): void;
}

export function deliveryMetrics(registry: Registry): DeliveryMetrics {
  const outcomes = new Counter({ name: 'chainsight_alert_notifications_total', help: 'Alert notifications by destination and outcome (delivered, failed attempt, abandoned after the give-up time, unreadable)', labelNames: ['destination', 'outcome'], registers: [registry] });
  const failures = new Gauge({ name: 'chainsight_alert_destination_failures', help: 'Consecutive failed attempts of a destination (0: healthy)', labelNames: ['destination'], registers: [registry] });
  return {
    outcome: (destination, outcome) => outcomes.inc({ destination, outcome }),
    failing: (destination, n) => failures.set({ destination }, n),
  };
}
