/** The notification formats and the signature, as pure functions. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alertmanagerPayload } from '../../src/alert/delivery/alertmanager.js';
import { idempotencyKey, parseChange } from '../../src/alert/delivery/change.js';
import { ocsfDetectionFinding } from '../../src/alert/delivery/ocsf.js';
import { signBody, verifySignature } from '../../src/alert/delivery/signature.js';
import { change } from '../support/alert-changes.js';
import { ocsfProblems } from '../support/ocsf-validate.js';

const secret = Buffer.from('0123456789abcdef0123456789abcdef', 'utf8');

test('a signature verifies over the exact body and timestamp; a changed byte, another secret, an old timestamp or a malformed header fail', () => {
  const body = Buffer.from('{"status":"firing"}');
  const ts = 1_800_000_000;
  const signature = signBody(secret, ts, body);
  assert.match(signature, /^sha256=[0-9a-f]{64}$/);
  const h = { signature, timestamp: String(ts) };
  assert.deepEqual(verifySignature(secret, h, body, ts + 10), { ok: true });
  assert.deepEqual(verifySignature(secret, h, Buffer.from('{"status":"firinG"}'), ts), { ok: false, reason: 'mismatch' });
  assert.deepEqual(verifySignature(Buffer.from('another secret, same length!!!!!'), h, body, ts), { ok: false, reason: 'mismatch' });
  assert.deepEqual(verifySignature(secret, { signature, timestamp: String(ts + 1) }, body, ts), { ok: false, reason: 'mismatch' }, 'the timestamp is signed too');
  assert.deepEqual(verifySignature(secret, h, body, ts + 301), { ok: false, reason: 'stale' }, 'a replay after the tolerance');
  assert.deepEqual(verifySignature(secret, { signature: 'sha256=zz', timestamp: String(ts) }, body, ts), { ok: false, reason: 'malformed' });
  assert.deepEqual(verifySignature(secret, { signature: undefined, timestamp: String(ts) }, body, ts), { ok: false, reason: 'missing' });
});

test('the idempotency key is the same for the same transition and differs for another status, time or sequence', () => {
  const c = change();
  assert.equal(idempotencyKey(c), idempotencyKey(structuredClone(c)));
  assert.match(idempotencyKey(c), /^[0-9a-f]{32}$/);
  const keys = new Set([c, { ...c, status: 'resolved' as const }, { ...c, atMs: c.atMs + 1 }, { ...c, seq: 2 }].map(idempotencyKey));
  assert.equal(keys.size, 4);
});

test('a stored change parses back; a tampered or half-formed one is refused with every problem', () => {
  const c = change();
  assert.deepEqual(parseChange(JSON.stringify(c)), c);
  assert.throws(() => parseChange('[]'), /must be an object/);
  assert.throws(() => parseChange(JSON.stringify({ ...c, id: 'x', status: 'boom', alert: { ...c.alert, kind: 'nope', count: -1 } })), (err: Error) => {
    for (const p of ['id must be 32 hex', 'status must be firing or resolved', 'alert.kind', 'count must be']) assert.ok(err.message.includes(p), p);
    return true;
  });
});

test('Alertmanager webhook v4: every field a receiver reads, firing with the zero end time, resolved with its end', () => {
  const firing = alertmanagerPayload(change(), { receiver: 'soc', externalUrl: 'https://cs.example' });
  assert.deepEqual(Object.keys(firing).sort(), ['alerts', 'commonAnnotations', 'commonLabels', 'externalURL', 'groupKey', 'groupLabels', 'receiver', 'status', 'truncatedAlerts', 'version']);
  assert.equal(firing.version, '4');
  assert.equal(firing.status, 'firing');
  assert.equal(firing.truncatedAlerts, 0);
  const a = firing.alerts[0]!;
  assert.deepEqual(Object.keys(a).sort(), ['annotations', 'endsAt', 'fingerprint', 'generatorURL', 'labels', 'startsAt', 'status']);
  assert.equal(a.labels.alertname, 'integrity.link_reuse');
  assert.equal(a.labels.severity, 'critical');
  assert.equal(a.endsAt, '0001-01-01T00:00:00Z');
  assert.equal(a.startsAt, '2026-11-29T10:00:00.000Z');
  assert.match(a.fingerprint, /^[0-9a-f]{16}$/);
  assert.equal(a.generatorURL, `https://cs.example/api/alerts/${change().id}`);
  for (const k of Object.keys(a.labels)) assert.match(k, /^[a-zA-Z_][a-zA-Z0-9_]*$/, 'Prometheus label names');
  const resolved = alertmanagerPayload(change({ status: 'resolved' }), { receiver: 'soc', externalUrl: 'https://cs.example' });
  assert.equal(resolved.status, 'resolved');
  assert.equal(resolved.alerts[0]!.endsAt, '2026-11-29T10:01:00.000Z');
  assert.equal(resolved.alerts[0]!.annotations.resolution, 'rotated the key');
  assert.equal(resolved.groupKey, firing.groupKey, 'one group per alert, so a receiver matches the resolution to its firing');
});

test('OCSF Detection Finding: the class requirements hold for create, update (a reopen) and close', () => {
  const opts = { productName: 'chainsight', externalUrl: 'https://cs.example', key: 'k1' };
  const create = ocsfDetectionFinding(change(), opts);
  const update = ocsfDetectionFinding(change({ seq: 2, atMs: Date.parse('2026-11-29T11:00:00Z') }), opts);
  const close = ocsfDetectionFinding(change({ status: 'resolved' }), opts);
  for (const f of [create, update, close]) assert.deepEqual(ocsfProblems(f), []);
  assert.deepEqual([create.activity_id, update.activity_id, close.activity_id], [1, 2, 3]);
  assert.deepEqual([create.status_id, close.status_id], [1, 4]);
  assert.equal(create.severity_id, 5);
  assert.equal((create.finding_info as { uid: string }).uid, change().id, 'the finding is the alert: one uid across its activities');
  assert.deepEqual((create.evidences as { data: { link_ids: string[] } }[])[0]!.data.link_ids, ['jti-1']);
  // The validator itself fails on a broken finding.
  assert.deepEqual(ocsfProblems({ ...create, type_uid: 200499, finding_info: { uid: '' } }), ['type_uid must be class_uid * 100 + activity_id', 'finding_info.uid missing', 'finding_info.title missing']);
});
