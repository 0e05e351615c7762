/**
 * Alert delivery as the runtime starts it: on its own ClickHouse connection
 * (chdb answers one query at a time per connection), following the alert
 * store's changes from `give_up_after` ago (what is older would be
 * abandoned anyway), in the one process whose dispatch role is on.
 */
import type { ChainsightConfig } from '../../config/config.js';
import type { DetectionConfig } from '../../detect/config.js';
import { RevocationStore } from '../../revoke/store.js';
import type { Logger } from '../../runtime/logger.js';
import type { Registry } from 'prom-client';
import { openClient } from '../../store/client.js';
import { deliveryMetrics } from './metrics.js';
import { AlertStore } from '../store.js';
import { AlertDelivery } from './service.js';
import { AlertStoreChanges } from './store-changes.js';

export function startAlertDelivery(config: ChainsightConfig, detection: DetectionConfig, logger: Logger, registry: Registry): AlertDelivery | undefined {
  const env = config.alertDelivery;
  const { delivery, response } = detection.sections;
  if (!detection.enabled || env === undefined || !env.dispatch) return undefined;
  if (delivery.destinations.length === 0 && !response.enabled) return undefined;
  const client = openClient(config.store);
  const log = logger.child({ component: 'alert-delivery' });
  const service = new AlertDelivery({
    client,
    database: config.store.database,
    delivery,
    secrets: env.secrets,
    response,
    // Its own revocation store on its own connection: the response's reads never queue behind the watcher's polls.
    revocations: new RevocationStore(client, config.store.database),
    dispatch: true,
    logger: log,
    metrics: deliveryMetrics(registry),
    ownsClient: true,
  });
  service.follow(new AlertStoreChanges(new AlertStore(client, config.store.database), log), String(Date.now() - delivery.giveUpAfterMs));
  service.start();
  log.info({ destinations: delivery.destinations.map((d) => d.name), response: response.enabled ? (response.dryRun ? 'dry run' : 'on') : 'off' }, 'alert delivery started');
  return service;
}
