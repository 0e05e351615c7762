/**
 * The Kafka sink on a real broker and the OCSF file sink, fed by the
 * outbox; the automated response against the real revocations table.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { idempotencyKey } from '../../src/alert/delivery/change.js';
import { Dispatcher, type DispatchLogger } from '../../src/alert/delivery/dispatcher.js';
import { KafkaDestination } from '../../src/alert/delivery/kafka-sink.js';
import { OcsfFileDestination, OcsfHttpDestination } from '../../src/alert/delivery/ocsf-sink.js';
import { OutboxStore } from '../../src/alert/delivery/outbox-store.js';
import { ResponseAuditStore } from '../../src/alert/response/audit-store.js';
import { DEFAULT_RESPONSE, type ResponseConfig } from '../../src/alert/response/config.js';
import { RESPONSE_ACTOR } from '../../src/alert/response/plan.js';
import { ResponseDestination } from '../../src/alert/response/responder.js';
import { RevocationStore } from '../../src/revoke/store.js';
import { openTestStore, type TestStore } from '../support/store.js';
import { change, firingAndResolved } from '../support/alert-changes.js';
import { ocsfProblems } from '../support/ocsf-validate.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { highWatermarks, kafkaBrokers, readTopic, releaseKafka, testKafka, uniqueTopic } from '../support/kafka.js';

let store: TestStore;
let dir: string;
before(async () => {
  store = await openTestStore();
  dir = mkdtempSync(join(tmpdir(), 'cs-sinks-'));
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  await releaseKafka();
});

const quiet: DispatchLogger & { lines: string[] } = { lines: [], error: (o, m) => void quiet.lines.push(`${m} ${JSON.stringify(o)}`), warn: (o, m) => void quiet.lines.push(`${m} ${JSON.stringify(o)}`), info: () => {} };
const FORMAT = { productName: 'chainsight', externalUrl: 'https://cs.example' };
const dispatchOpts = { pollIntervalMs: 20, batchSize: 50, retry: { initialMs: 20, maxMs: 100 }, giveUpAfterMs: 3_600_000, logger: quiet };

test('Kafka sink: each notification once on the topic, keyed by alert id, the idempotency key in a header; an alert resolves after it fires, in its partition', async (t) => {
  const brokers = await kafkaBrokers();
  if (typeof brokers === 'string') return t.skip(brokers);
  const topic = uniqueTopic('alerts');
  const admin = testKafka(brokers).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  await admin.disconnect();
  const outbox = new OutboxStore(store.writer, store.config.database);
  const changes = firingAndResolved(6, 'kafka');
  await outbox.enqueue(changes);
  const sink = new KafkaDestination('bus', { brokers, topic, format: 'ocsf', timeoutMs: 10_000, ...FORMAT, logger: quiet });
  const d = new Dispatcher(outbox, [sink], dispatchOpts);
  await d.runOnce();
  // A restarted dispatcher sends nothing already recorded.
  const again = new Dispatcher(outbox, [new KafkaDestination('bus', { brokers, topic, format: 'ocsf', timeoutMs: 10_000, ...FORMAT, logger: quiet })], dispatchOpts);
  await again.runOnce();
  await Promise.all([d.stop(), again.stop()]);

  const messages = await readTopic(brokers, topic, changes.length);
  const total = [...(await highWatermarks(brokers, topic)).values()].reduce((a, b) => a + b, 0);
  assert.equal(total, changes.length, 'nothing doubled on the topic');
  const keys = messages.map((m) => m.headers?.['idempotency-key']?.toString()).sort();
  assert.deepEqual(keys, changes.map(idempotencyKey).sort());
  for (const m of messages) {
    const finding = JSON.parse(m.value!.toString()) as { class_uid: number; finding_info: { uid: string }; activity_id: number };
    assert.deepEqual(ocsfProblems(finding as unknown as Record<string, unknown>), []);
    assert.equal(m.key!.toString(), finding.finding_info.uid, 'keyed by alert id');
    assert.equal(m.headers?.status?.toString(), finding.activity_id === 3 ? 'resolved' : 'firing');
  }
  // Per alert (one partition), the close follows the create.
  for (const c of changes.filter((x) => x.status === 'firing')) {
    const mine = messages.filter((m) => m.key!.toString() === c.id).sort((a, b) => Number(a.offset) - Number(b.offset));
    assert.deepEqual(mine.map((m) => m.headers?.status?.toString()), ['firing', 'resolved']);
  }
});

test('Kafka sink: a broker that cannot be reached fails the attempt and records nothing', async () => {
  const outbox = new OutboxStore(store.writer, store.config.database);
  const c = change({ subject: 'kafka-down' });
  await outbox.enqueue([c]);
  const sink = new KafkaDestination('bus-down', { brokers: ['127.0.0.1:1'], topic: 'x', format: 'alertmanager', timeoutMs: 500, ...FORMAT, logger: quiet });
  const d = new Dispatcher(outbox, [sink], dispatchOpts);
  await d.runOnce();
  await d.stop();
  assert.equal(d.status()[0]!.failures, 1);
  assert.deepEqual(await outbox.deliveries('bus-down'), []);
});

test('OCSF file sink: one JSON line per notification, create then close per alert, each line a Detection Finding', async () => {
  const outbox = new OutboxStore(store.writer, store.config.database);
  const changes = firingAndResolved(3, 'ocsf-file');
  await outbox.enqueue(changes);
  const file = join(dir, 'findings.jsonl');
  const d = new Dispatcher(outbox, [new OcsfFileDestination('siem', file, FORMAT)], dispatchOpts);
  await d.runOnce();
  await d.runOnce();
  await d.stop();
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
  // Other tests' notifications share the outbox: this destination gets them all, once each.
  const mine = lines.filter((l) => changes.some((c) => c.id === l.finding_info.uid));
  assert.equal(mine.length, changes.length);
  assert.equal(new Set(lines.map((l) => l.metadata.uid)).size, lines.length, 'no line written twice');
  for (const l of mine) assert.deepEqual(ocsfProblems(l), []);
  for (const c of changes.filter((x) => x.status === 'firing')) {
    assert.deepEqual(mine.filter((l) => l.finding_info.uid === c.id).map((l) => [l.activity_id, l.status_id, l.type_uid]), [[1, 1, 200401], [3, 4, 200403]]);
  }
});

test('OCSF over HTTP: one signed finding per request, verified by the receiver', async () => {
  const secret = Buffer.from('ocsf-http-secret-0123456789abcdef!!', 'utf8');
  const receiver = new WebhookReceiver(secret);
  await receiver.start();
  const outbox = new OutboxStore(store.writer, store.config.database);
  const changes = firingAndResolved(2, 'ocsf-http');
  await outbox.enqueue(changes);
  const d = new Dispatcher(outbox, [new OcsfHttpDestination('siem-http', { url: new URL(receiver.url), timeoutMs: 2_000 }, secret, FORMAT)], dispatchOpts);
  await d.runOnce();
  await d.stop();
  await receiver.stop();
  const mine = receiver.accepted.filter((r) => changes.some((c) => idempotencyKey(c) === r.key));
  assert.equal(mine.length, changes.length);
  assert.deepEqual(receiver.badSignatures, []);
  for (const r of mine) assert.deepEqual(ocsfProblems(r.body), []);
});

test('automated response: revokes the offending link once and audits it, across redelivery, a reopen and a crash before the audit; an ambiguous alert is only audited', async () => {
  const db = store.config.database;
  const revocations = new RevocationStore(store.writer, db);
  const audit = new ResponseAuditStore(store.writer, db);
  const config: ResponseConfig = { ...DEFAULT_RESPONSE, enabled: true, minSeverity: 'high' };
  const responder = new ResponseDestination(config, revocations, audit, quiet);
  const outbox = new OutboxStore(store.writer, db);

  const reuse = change({ kind: 'integrity.link_reuse', subject: 'jti-stolen', linkIds: ['jti-stolen'] });
  const lowSeverity = change({ kind: 'integrity.link_reuse', subject: 'jti-low', severity: 'low', linkIds: ['jti-low'] });
  const ambiguous = change({ kind: 'integrity.link_reuse', subject: 'two-links', linkIds: ['j-a', 'j-b'] });
  await outbox.enqueue([reuse, lowSeverity, ambiguous]);
  const d = new Dispatcher(outbox, [responder], dispatchOpts);
  await d.runOnce();
  await d.stop();
  // Redelivered (a second dispatcher after a crash before the record) and reopened: still one revocation.
  const entry = (c: typeof reuse) => ({ key: idempotencyKey(c), change: c, enqueuedAtMs: Date.now() });
  await responder.deliver(entry(reuse));
  await responder.deliver(entry({ ...reuse, seq: 2, atMs: reuse.atMs + 3_600_000 }));

  const revoked = await revocations.list({ target: 'jti-stolen' });
  assert.equal(revoked.length, 1);
  assert.equal(revoked[0]!.kind, 'link');
  assert.equal(revoked[0]!.revokedBy, RESPONSE_ACTOR);
  assert.ok(revoked[0]!.reason.startsWith(`alert ${reuse.id} `));
  const rows = await audit.list(reuse.id);
  assert.deepEqual(rows.map((r) => [r.action, r.target, r.mode, r.outcome, r.revocationId, r.actor]), [['revoke_link', 'jti-stolen', 'enforce', 'revoked', revoked[0]!.id, RESPONSE_ACTOR]]);
  assert.deepEqual(await revocations.list({ target: 'jti-low' }), [], 'below the severity: nothing');
  assert.deepEqual(await audit.list(lowSeverity.id), []);
  assert.deepEqual((await audit.list(ambiguous.id)).map((r) => r.outcome), ['skipped']);
  assert.deepEqual(await revocations.list({ target: 'j-a' }), []);

  // A crash after revoking and before auditing: the next delivery finds the revocation and audits it, without a second one.
  const crashed = change({ kind: 'integrity.link_reuse', subject: 'jti-crash', linkIds: ['jti-crash'] });
  const made = await revocations.revoke({ kind: 'link', target: 'jti-crash', reason: `alert ${crashed.id} (integrity.link_reuse, critical): earlier`, revokedBy: RESPONSE_ACTOR });
  await responder.deliver(entry(crashed));
  assert.equal((await revocations.list({ target: 'jti-crash' })).length, 1);
  assert.equal((await audit.list(crashed.id))[0]!.revocationId, made.id);
});

test('automated response, dry run: audits what it would revoke and revokes nothing', async () => {
  const db = store.config.database;
  const revocations = new RevocationStore(store.writer, db);
  const audit = new ResponseAuditStore(store.writer, db);
  const responder = new ResponseDestination({ ...DEFAULT_RESPONSE, enabled: true, dryRun: true }, revocations, audit, quiet);
  const agent = change({ kind: 'integrity.not_delegatee', subject: 'presenter', agents: ['spiffe://acme.example/agent/impostor'] });
  const e = { key: idempotencyKey(agent), change: agent, enqueuedAtMs: Date.now() };
  await responder.deliver(e);
  await responder.deliver(e);
  assert.deepEqual(await revocations.list({ target: 'spiffe://acme.example/agent/impostor' }), []);
  assert.deepEqual((await audit.list(agent.id)).map((r) => [r.action, r.target, r.mode, r.outcome]), [['revoke_agent', 'spiffe://acme.example/agent/impostor', 'dry_run', 'would_revoke']]);
});
