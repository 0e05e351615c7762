/**
 * Delivery in the running processor: a detector raises an alert, the alert
 * store's change feed puts it in the outbox, the webhook receiver gets it
 * signed, then its resolution; the automated response (dry run) audits the
 * agent it would revoke. A second processor with the dispatch role off
 * delivers nothing itself.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import { openPipeline, type Pipeline } from '../../src/runtime/pipeline.js';
import { createLogger } from '../../src/runtime/logger.js';
import { ResponseAuditStore } from '../../src/alert/response/audit-store.js';
import type { AlertmanagerPayload } from '../../src/alert/delivery/alertmanager.js';
import { makeTrustDomain, spanFor, standardChain, type TestDomain } from '../support/keys.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { waitFor } from '../support/kafka.js';

const SECRET = 'pipeline-webhook-secret-0123456789abcdef';
let d: TestDomain;
let dataDir: string;
let receiver: WebhookReceiver;
let dispatching: Pipeline;
let quiet: Pipeline;
const logger = createLogger('silent');

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'chainsight-delivery-'));
  d = await makeTrustDomain();
  receiver = new WebhookReceiver(Buffer.from(SECRET));
  await receiver.start();
  const detection = join(dataDir, 'detection.yaml');
  writeFileSync(detection, [
    'delivery:',
    '  poll_interval_ms: 50',
    '  destinations:',
    `    - { name: soc, type: webhook, url: "${receiver.url}" }`,
    'response:',
    '  enabled: true',
    '  dry_run: true',
    '  min_severity: high',
  ].join('\n'));
  const env = { ...process.env, CHAINSIGHT_DATABASE: `delivery_${process.pid}`, CHAINSIGHT_DETECTION: detection, CHAINSIGHT_WEBHOOK_SECRET: SECRET };
  const config = loadConfig(env, { data: dataDir, trustDir: d.dir });
  assert.deepEqual(config.unknownVariables, [], 'the secret counts as read');
  dispatching = await openPipeline(config, logger, { defaultMetrics: false });
  quiet = await openPipeline(loadConfig({ ...env, CHAINSIGHT_ALERT_DISPATCH: 'off' }, { data: dataDir, trustDir: d.dir }), logger, { defaultMetrics: false });
});

after(async () => {
  await quiet.close();
  await dispatching.close();
  await receiver.stop();
  await d.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test('an alert raised on either processor reaches the webhook once, signed; its resolution follows; the dry-run response audits the presenter', async () => {
  assert.ok(dispatching.alertDelivery, 'the dispatching processor delivers');
  assert.equal(quiet.alertDelivery, undefined, 'the other one does not');
  const chain = await standardChain(d);
  // Raised on the processor that does not dispatch: delivery follows the shared store, not the process.
  await quiet.processor.ingest([spanFor(chain, { agentId: d.id('rogue'), agentName: 'rogue', spanId: '00000000000000a1' })]);
  await waitFor('the firing notification', () => receiver.accepted.length >= 1);
  const [alert] = (await dispatching.alerts.list({ kind: 'integrity.not_delegatee' })).items;
  assert.ok(alert);
  const firing = receiver.accepted[0]!.body as unknown as AlertmanagerPayload;
  assert.equal(firing.status, 'firing');
  assert.equal(firing.alerts[0]!.labels.alert_id, alert.id);
  assert.equal(firing.alerts[0]!.labels.alertname, 'integrity.not_delegatee');

  // Another trigger of the open alert updates it: no new notification.
  await dispatching.processor.ingest([spanFor(chain, { agentId: d.id('rogue'), agentName: 'rogue', spanId: '00000000000000a2' })]);
  await dispatching.alerts.resolve(alert.id, 'bob@company.com', 'rogue agent removed');
  await waitFor('the resolved notification', () => receiver.accepted.length >= 2);
  const resolved = receiver.accepted[1]!.body as unknown as AlertmanagerPayload;
  assert.equal(resolved.status, 'resolved');
  assert.equal(resolved.alerts[0]!.annotations.resolution, 'rogue agent removed');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(receiver.accepted.length, 2, 'nothing more: the update notified nobody');
  assert.deepEqual(receiver.badSignatures, []);
  assert.equal(receiver.duplicates, 0);

  const audit = await new ResponseAuditStore(dispatching.readerClient, dispatching.database).list(alert.id);
  assert.deepEqual(audit.map((a) => [a.action, a.target, a.mode, a.outcome]), [['revoke_agent', d.id('rogue'), 'dry_run', 'would_revoke']]);
  assert.deepEqual(await dispatching.revocations.store.list({ target: d.id('rogue') }), [], 'a dry run revokes nothing');
  const metrics = await dispatching.metrics.registry.metrics();
  assert.match(metrics, /chainsight_alert_notifications_total\{destination="soc",outcome="delivered"\} 2\n/);
  assert.match(metrics, /chainsight_alert_destination_failures\{destination="soc"\} 0\n/);
});
