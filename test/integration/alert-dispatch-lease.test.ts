/**
 * Several dispatchers on one store (every processor left with the dispatch
 * role on): the one started first delivers, the others stand by, and when
 * it stops the next takes over: every notification reaches the receiver
 * once.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { idempotencyKey } from '../../src/alert/delivery/change.js';
import { DEFAULT_DELIVERY, parseDeliveryConfig } from '../../src/alert/delivery/config.js';
import { leaderOf } from '../../src/alert/delivery/lease.js';
import { AlertDelivery } from '../../src/alert/delivery/service.js';
import { DEFAULT_RESPONSE } from '../../src/alert/response/config.js';
import { RevocationStore } from '../../src/revoke/store.js';
import { openTestStore, type TestStore } from '../support/store.js';
import { firingAndResolved } from '../support/alert-changes.js';
import { waitFor } from '../support/kafka.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const SECRET = Buffer.from('lease-test-secret-0123456789abcdef!!', 'utf8');
let store: TestStore;
before(async () => {
  store = await openTestStore();
});
after(() => store.close());

test('the live dispatcher started first leads; ties go by instance id', () => {
  const a = { instance: 'b', host: 'h1', startedAtMs: 100 };
  const b = { instance: 'a', host: 'h2', startedAtMs: 200 };
  const c = { instance: 'a0', host: 'h3', startedAtMs: 100 };
  assert.equal(leaderOf([b, a])?.host, 'h1');
  assert.equal(leaderOf([a, c, b])?.host, 'h3');
  assert.equal(leaderOf([]), undefined);
});

test('two dispatchers on one store: one delivers, the other takes over when it stops; nothing doubled, nothing lost', async () => {
  const receiver = new WebhookReceiver(SECRET);
  await receiver.start();
  const problems: string[] = [];
  const delivery = { ...parseDeliveryConfig({ destinations: [{ name: 'soc', url: receiver.url }] }, '/delivery', problems), pollIntervalMs: 20 };
  assert.deepEqual(problems, []);
  const lines: string[] = [];
  const logger = { error: () => {}, warn: (_o: object, m?: string) => void lines.push(m ?? ''), info: () => {} };
  const make = () =>
    new AlertDelivery({
      client: store.writer,
      database: store.config.database,
      delivery: { ...DEFAULT_DELIVERY, ...delivery },
      secrets: { secrets: new Map([['soc', SECRET]]), cas: new Map() },
      response: DEFAULT_RESPONSE,
      revocations: new RevocationStore(store.writer, store.config.database),
      dispatch: true,
      logger,
      lease: { heartbeatMs: 50, expiryMs: 400 },
    });
  // Started together: both beat, one leads (or waits out its warm-up), the other stands by.
  const pair = [make(), make()];
  for (const p of pair) p.start();
  const before = firingAndResolved(8, 'lease-a');
  await pair[0]!.notify(before);
  await waitFor('the first batch', () => receiver.accepted.length >= before.length);
  const delivered = pair.map((p) => p.status()[0]!.delivered);
  assert.deepEqual([...delivered].sort((a, b) => a - b), [0, before.length], 'one delivered everything, the other nothing');
  await waitFor('the warning about two dispatchers', () => lines.some((l) => l.startsWith('several alert dispatchers are running')));
  const leader = pair[delivered[0]! > 0 ? 0 : 1]!;
  const standby = pair[delivered[0]! > 0 ? 1 : 0]!;

  // The leader stops: the standby takes over once its beats expire.
  await leader.stop();
  const after = firingAndResolved(5, 'lease-b');
  await standby.notify(after);
  await waitFor('the standby taking over', () => receiver.accepted.length >= before.length + after.length, 15_000);
  await standby.stop();
  await receiver.stop();
  assert.deepEqual(receiver.accepted.map((r) => r.key).sort(), [...before, ...after].map(idempotencyKey).sort());
  assert.equal(receiver.duplicates, 0);
  assert.equal(standby.status()[0]!.delivered, after.length);
});
