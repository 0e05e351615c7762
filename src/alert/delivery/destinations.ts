/** Builds the configured destinations (and the automated response, when on) from the parsed config. */
import type { RevocationStore } from '../../revoke/store.js';
import { ResponseAuditStore } from '../response/audit-store.js';
import type { ResponseConfig } from '../response/config.js';
import { ResponseDestination } from '../response/responder.js';
import type { ClickHouseClient } from '@clickhouse/client';
import type { DeliveryConfig, DeliverySecrets } from './config.js';
import type { Destination } from './destination.js';
import type { DispatchLogger } from './dispatcher.js';
import { KafkaDestination } from './kafka-sink.js';
import { OcsfFileDestination, OcsfHttpDestination } from './ocsf-sink.js';
import { WebhookDestination } from './webhook.js';

export interface DestinationDeps {
  client: ClickHouseClient;
  database: string;
  revocations: RevocationStore;
  logger: DispatchLogger;
  now?: () => number;
}

export function buildDestinations(delivery: DeliveryConfig, secrets: DeliverySecrets, response: ResponseConfig, deps: DestinationDeps): Destination[] {
  const { externalUrl, productName } = delivery;
  const out: Destination[] = [];
  for (const d of delivery.destinations) {
    const ca = secrets.cas.get(d.name);
    const secret = secrets.secrets.get(d.name);
    switch (d.type) {
      case 'webhook':
        // resolveDeliverySecrets refused a webhook without a secret; never send one unsigned.
        if (secret === undefined) throw new Error(`destination "${d.name}": no signing secret`);
        out.push(new WebhookDestination(d.name, { url: d.url, timeoutMs: d.timeoutMs, ...(ca ? { ca } : {}) }, secret, { receiver: d.receiver, externalUrl }, deps.now));
        break;
      case 'ocsf':
        if (d.file !== undefined) out.push(new OcsfFileDestination(d.name, d.file, { productName, externalUrl }));
        else if (d.url !== undefined) out.push(new OcsfHttpDestination(d.name, { url: d.url, timeoutMs: d.timeoutMs, ...(ca ? { ca } : {}) }, secret, { productName, externalUrl }, deps.now));
        break;
      case 'kafka':
        out.push(new KafkaDestination(d.name, { brokers: d.brokers, topic: d.topic, format: d.format, timeoutMs: d.timeoutMs, productName, externalUrl, logger: deps.logger }));
        break;
    }
  }
  if (response.enabled) out.push(new ResponseDestination(response, deps.revocations, new ResponseAuditStore(deps.client, deps.database), deps.logger, deps.now));
  return out;
}
