/**
 * The Alertmanager webhook through the outbox, against a real HTTP(S)
 * receiver that checks every signature: an outage with a dispatcher restart
 * in the middle loses nothing and doubles nothing; TLS with a CA file;
 * hostile receivers bounded.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { idempotencyKey } from '../../src/alert/delivery/change.js';
import { Dispatcher, type DispatchLogger } from '../../src/alert/delivery/dispatcher.js';
import { OutboxStore } from '../../src/alert/delivery/outbox-store.js';
import { WebhookDestination } from '../../src/alert/delivery/webhook.js';
import type { AlertmanagerPayload } from '../../src/alert/delivery/alertmanager.js';
import { openTestStore, type TestStore } from '../support/store.js';
import { change, firingAndResolved } from '../support/alert-changes.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { issue, makeCa } from '../support/trust-pki.js';

const SECRET = Buffer.from('a-webhook-secret-of-at-least-32-bytes!!', 'utf8');
const FORMAT = { receiver: 'soc', externalUrl: 'https://chainsight.example' };

let store: TestStore;
let dir: string;
before(async () => {
  store = await openTestStore();
  dir = mkdtempSync(join(tmpdir(), 'cs-webhook-'));
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A logger that keeps every line, to check that no secret reaches the logs. */
function recordingLogger(): DispatchLogger & { lines: string[] } {
  const lines: string[] = [];
  const put = (obj: object, msg?: string): void => void lines.push(`${msg ?? ''} ${JSON.stringify(obj)}`);
  return { lines, error: put, warn: put, info: put };
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function dispatcher(outbox: OutboxStore, url: string, logger: DispatchLogger, ca?: Buffer, giveUpAfterMs = 3_600_000): Dispatcher {
  const dest = new WebhookDestination('soc-webhook', { url: new URL(url), timeoutMs: 2_000, ...(ca ? { ca } : {}) }, SECRET, FORMAT);
  return new Dispatcher(outbox, [dest], { pollIntervalMs: 20, batchSize: 4, retry: { initialMs: 30, maxMs: 200 }, giveUpAfterMs, logger });
}

test('the receiver goes down and comes back, the dispatcher restarts in between: every notification arrives once, signed, in order', async () => {
  const outbox = new OutboxStore(store.writer, store.config.database);
  const receiver = new WebhookReceiver(SECRET);
  await receiver.start();
  const logger = recordingLogger();
  const first = firingAndResolved(10, 'outage-a');
  await outbox.enqueue(first);
  // Every processor enqueues the same changes: the keys fold them.
  await outbox.enqueue(first.slice(0, 6));

  let d = dispatcher(outbox, receiver.url, logger);
  d.start();
  await until('some deliveries', () => receiver.accepted.length >= 6);
  await receiver.stop();
  await until('failed retries while the receiver is down', () => d.status()[0]!.failures >= 3);
  const during = firingAndResolved(5, 'outage-b');
  await outbox.enqueue(during);
  // The dispatcher restarts while the receiver is still down.
  await d.stop();
  d = dispatcher(outbox, receiver.url, logger);
  d.start();
  await until('the new dispatcher failing too', () => d.status()[0]!.failures >= 2);
  await receiver.start(receiver.port);
  const all = [...first, ...during];
  await until('every notification', () => receiver.accepted.length >= all.length);
  await d.stop();

  const keys = all.map(idempotencyKey).sort();
  assert.deepEqual(receiver.accepted.map((r) => r.key).sort(), keys, 'each notification exactly once');
  assert.deepEqual(receiver.badSignatures, [], 'every signature verified');
  // A request cut by the outage after the receiver processed it is sent again under its key (the at-least-once boundary): at most the one in flight.
  assert.ok(receiver.duplicates <= 1, `duplicates: ${receiver.duplicates}`);
  const delivered = await outbox.deliveries('soc-webhook');
  assert.deepEqual(delivered.map((r) => r.key).sort(), keys);
  assert.ok(delivered.every((r) => r.outcome === 'delivered'));
  // An alert's resolution never overtakes its firing.
  const position = new Map(receiver.accepted.map((r, i) => [r.key, i]));
  for (let i = 0; i < all.length; i += 2) assert.ok(position.get(idempotencyKey(all[i]!))! < position.get(idempotencyKey(all[i + 1]!))!);
  // Resolved notifications carry the resolution in Alertmanager's shape.
  const resolved = receiver.accepted.find((r) => r.key === idempotencyKey(all[1]!))!.body as unknown as AlertmanagerPayload;
  assert.equal(resolved.status, 'resolved');
  assert.notEqual(resolved.alerts[0]!.endsAt, '0001-01-01T00:00:00Z');
  // Nothing left: a further pass sends nothing.
  const again = dispatcher(outbox, receiver.url, logger);
  await again.runOnce();
  assert.equal(receiver.accepted.length + receiver.duplicates, all.length + receiver.duplicates);
  await again.stop();
  await receiver.stop();
  assert.ok(logger.lines.some((l) => l.includes('will retry')), 'the outage was logged');
  const leaked = logger.lines.filter((l) => l.includes(SECRET.toString()) || l.includes('query-secret'));
  assert.deepEqual(leaked, [], 'neither the secret nor the URL query reaches the logs');
});

test('HTTPS with a CA file: delivered; without it the self-signed receiver is not trusted and nothing is recorded', async () => {
  const ca = makeCa(dir, 'hook-ca');
  const leaf = issue(dir, ca, 'localhost', { san: 'DNS:localhost,IP:127.0.0.1', keyUsage: 'digitalSignature,keyEncipherment' });
  const receiver = new WebhookReceiver(SECRET, { key: readFileSync(leaf.keyFile), cert: readFileSync(leaf.certFile) });
  await receiver.start();
  const outbox = new OutboxStore(store.writer, store.config.database);
  const c = change({ subject: 'tls-1' });
  await outbox.enqueue([c]);
  const logger = recordingLogger();

  const untrusted = dispatcher(outbox, receiver.url, logger);
  await untrusted.runOnce();
  assert.equal(receiver.accepted.length, 0);
  assert.match(untrusted.status()[0]!.lastError, /self[- ]signed|unable to verify|SELF_SIGNED|UNABLE_TO_VERIFY/i);
  await untrusted.stop();

  const trusted = dispatcher(outbox, receiver.url, logger, Buffer.from(ca.certPem));
  await trusted.runOnce();
  await trusted.stop();
  await receiver.stop();
  assert.deepEqual(receiver.accepted.map((r) => r.key), [idempotencyKey(c)]);
  assert.deepEqual(receiver.badSignatures, []);
});

/** A receiver that misbehaves in the given way, counting requests. */
async function hostile(behave: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    hits += 1;
    behave(req, res);
  });
  server.on('connection', (s) => sockets.add(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    hits: () => hits,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

test('hostile receivers: a stalled answer times out, a huge body is cut short, a redirect is not followed', async () => {
  const c = change({ subject: 'hostile-1' });
  const entry = { key: idempotencyKey(c), change: c, enqueuedAtMs: Date.now() };
  const follow = await hostile((_req, res) => res.writeHead(200).end());
  const cases = [
    { name: 'slowloris', server: await hostile((_req, res) => { res.writeHead(200); res.flushHeaders(); res.write('x'); }), error: /no answer within 300 ms/ },
    { name: 'headers never', server: await hostile(() => undefined), error: /no answer within 300 ms/ },
    { name: 'huge body', server: await hostile((_req, res) => { res.writeHead(500); res.end(Buffer.alloc(8 * 1024 * 1024, 'x')); }), error: /answered 500 \(refused\): x{20}/ },
    { name: 'redirect', server: await hostile((_req, res) => res.writeHead(307, { location: follow.url }).end()), error: /answered 307 \(redirect not followed\)/ },
  ];
  for (const k of cases) {
    const dest = new WebhookDestination('h', { url: new URL(k.server.url), timeoutMs: 300 }, SECRET, FORMAT);
    if (k.name === 'slowloris') {
      // 2xx headers are the answer: a body that trickles forever does not hold delivery.
      await dest.deliver(entry);
    } else {
      await assert.rejects(dest.deliver(entry), (err: Error) => {
        assert.match(err.message, k.error, k.name);
        assert.ok(err.message.length < 600, `${k.name}: the error stays short`);
        return true;
      });
    }
    assert.equal(k.server.hits(), 1, k.name);
    await k.server.close();
  }
  assert.equal(follow.hits(), 0, 'the redirect target was never contacted');
  await follow.close();
});

test('a stored notification that does not parse is recorded unreadable and blocks nothing; one past give-up is abandoned', async () => {
  const outbox = new OutboxStore(store.writer, store.config.database);
  const receiver = new WebhookReceiver(SECRET);
  await receiver.start();
  const good = change({ subject: 'after-garbage', atMs: Date.parse('2026-11-29T11:00:00Z') });
  await store.writer.insert({
    table: `${store.config.database}.alert_outbox`,
    format: 'JSONEachRow',
    values: [{ idem_key: 'garbage-key', alert_id: 'x', status: 'firing', transition_at: 0, seq: 0, payload: '{"id":"not-hex","status":"exploded"}' }],
  });
  await outbox.enqueue([good]);
  const logger = recordingLogger();
  const d = dispatcher(outbox, receiver.url, logger);
  await d.runOnce();
  await d.stop();
  assert.ok(receiver.accepted.some((r) => r.key === idempotencyKey(good)));
  const rows = await outbox.deliveries('soc-webhook');
  assert.equal(rows.find((r) => r.key === 'garbage-key')?.outcome, 'unreadable');
  await receiver.stop();

  // The receiver stays down longer than the give-up time: the entry is abandoned (recorded, logged), the next one tried.
  const late = [change({ subject: 'give-up-1', atMs: Date.parse('2026-11-29T12:00:00Z') }), change({ subject: 'give-up-2', atMs: Date.parse('2026-11-29T12:00:01Z') })];
  await outbox.enqueue(late);
  const giveUp = dispatcher(outbox, receiver.url, logger, undefined, 1);
  await new Promise((r) => setTimeout(r, 10));
  await giveUp.runOnce();
  await giveUp.stop();
  const after = await outbox.deliveries('soc-webhook');
  for (const c of late) assert.equal(after.find((r) => r.key === idempotencyKey(c))?.outcome, 'abandoned');
  assert.ok(logger.lines.some((l) => l.includes('abandoned')));
});

/** The outbox with its delivery records failing, as when the store goes away between a send and its record. */
class RecordFailingOutbox extends OutboxStore {
  override async record(): Promise<void> {
    throw new Error('store unavailable');
  }
}

test('the at-least-once boundary: a send whose record is lost is not repeated by the same dispatcher, and a restarted one repeats it under the same key, which the receiver drops', async () => {
  const receiver = new WebhookReceiver(SECRET);
  await receiver.start();
  const c = change({ subject: 'record-lost', atMs: Date.parse('2026-11-29T13:00:00Z') });
  const outbox = new OutboxStore(store.writer, store.config.database);
  await outbox.enqueue([c]);
  const logger = recordingLogger();
  const failing = dispatcher(new RecordFailingOutbox(store.writer, store.config.database), receiver.url, logger);
  await failing.runOnce();
  await failing.runOnce();
  await failing.stop();
  const mine = () => receiver.accepted.filter((r) => r.key === idempotencyKey(c)).length;
  assert.equal(mine(), 1);
  assert.equal(receiver.duplicates, 0, 'the same process remembers what it sent');
  // After a crash nothing remembers: the new dispatcher sends it again, under its key.
  const restarted = dispatcher(outbox, receiver.url, logger);
  await restarted.runOnce();
  await restarted.stop();
  await receiver.stop();
  assert.equal(mine(), 1);
  assert.equal(receiver.duplicates, 1);
  assert.equal((await outbox.deliveries('soc-webhook')).find((r) => r.key === idempotencyKey(c))?.outcome, 'delivered');
});
