/** The alert store (migration 009) on chdb, or CLICKHOUSE_URL: folding, dedup, lifecycle, reopening, tenants, changes. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AlertConflict, AlertStore } from '../../src/alert/store.js';
import { alertId } from '../../src/detect/alert.js';
import { toResolutionRow } from '../../src/alert/rows.js';
import { openTestStore, type TestStore } from '../support/store.js';
import { nextMs, signal, storeSignals } from '../support/alerts.js';

let store: TestStore;
let alerts: AlertStore;
let db: string;

before(async () => {
  store = await openTestStore();
  db = store.config.database;
  alerts = new AlertStore(store.writer, db);
});
after(() => store.close());

test('a redelivered trigger counts once; distinct triggers add to count, last seen and evidence', async () => {
  const s1 = signal({ subject: 'dedup', eventKey: 'e1', observedAtMs: 1_000_000 });
  await storeSignals(store.writer, db, [s1, s1]);
  await storeSignals(store.writer, db, [s1]);
  const id = alertId(s1);
  let a = await alerts.get(id);
  assert.ok(a);
  assert.equal(a.count, 1, 'three copies of one trigger');
  assert.equal(a.state, 'open');
  await storeSignals(store.writer, db, [signal({ subject: 'dedup', eventKey: 'e2', observedAtMs: 2_000_000, severity: 'high', summary: 'newest', evidence: { spanIds: ['span2'], linkIds: [], facts: { n: 2 } } })]);
  a = await alerts.get(id);
  assert.ok(a);
  assert.equal(a.count, 2);
  assert.equal(a.firstSeen, new Date(1_000_000).toISOString());
  assert.equal(a.lastSeen, new Date(2_000_000).toISOString());
  assert.equal(a.severity, 'high', 'the highest severity of its triggers');
  assert.equal(a.summary, 'newest');
  assert.deepEqual(a.evidence.spanIds, ['span2', 'span1'], 'newest first');
  assert.deepEqual(a.evidence.facts, { n: 2 });
  assert.equal(a.history.length, 1);
  assert.equal(a.history[0]!.state, 'open');
});

test('lifecycle: open → acknowledged → resolved with who and when; acknowledging a resolved alert is refused', async () => {
  const s = signal({ subject: 'lifecycle' });
  await storeSignals(store.writer, db, [s]);
  const id = alertId(s);
  const acked = await alerts.acknowledge(id, 'analyst-1', 'looking');
  assert.equal(acked?.state, 'acknowledged');
  assert.equal(acked?.acknowledgedBy, 'analyst-1');
  assert.ok(acked?.acknowledgedAt);
  assert.equal(acked?.resolvedBy, null);
  const again = await alerts.acknowledge(id, 'analyst-2', '');
  assert.equal(again?.acknowledgedBy, 'analyst-1', 'acknowledging twice changes nothing');
  await nextMs();
  const resolved = await alerts.resolve(id, 'analyst-2', 'false positive');
  assert.equal(resolved?.state, 'resolved');
  assert.equal(resolved?.resolvedBy, 'analyst-2');
  assert.equal(resolved?.resolution, 'false positive');
  assert.equal(resolved?.acknowledgedBy, 'analyst-1');
  await assert.rejects(alerts.acknowledge(id, 'analyst-3', ''), AlertConflict);
  const detail = await alerts.get(id);
  assert.deepEqual(detail?.history.map((h) => [h.state, h.actor, h.note]), [
    ['open', 'detector:test', 'raised: x broke r1'],
    ['acknowledged', 'analyst-1', 'looking'],
    ['resolved', 'analyst-2', 'false positive'],
  ]);
  assert.equal(await alerts.acknowledge('no-such-alert', 'x', ''), undefined);
});

test('a new trigger after the resolution reopens the alert; a redelivered old one does not', async () => {
  const s = signal({ subject: 'reopen', eventKey: 'old' });
  await storeSignals(store.writer, db, [s]);
  const id = alertId(s);
  await nextMs();
  await alerts.resolve(id, 'analyst', 'fixed');
  await nextMs();
  await storeSignals(store.writer, db, [s]);
  assert.equal((await alerts.view(id))?.state, 'resolved', 'the same trigger again is not new');
  await storeSignals(store.writer, db, [signal({ subject: 'reopen', eventKey: 'new' })]);
  const a = await alerts.get(id);
  assert.equal(a?.state, 'open');
  assert.equal(a?.count, 2);
  assert.equal(a?.resolvedBy, null, 'the resolution belongs to the previous episode');
  assert.deepEqual(a?.history.map((h) => h.state), ['open', 'resolved', 'open']);
});

test('self-resolution: written once per episode, never for a missing or resolved alert, never across tenants', async () => {
  const s = signal({ subject: 'self', kind: 'scope.over_provisioned' });
  await storeSignals(store.writer, db, [s]);
  const id = alertId(s);
  const res = { kind: s.kind, tenant: s.tenant, subject: s.subject, windowStartMs: 0, reason: 'scope used', atMs: Date.now() };
  assert.equal(await alerts.applyResolutions([toResolutionRow({ ...res, tenant: 'other.example' }, 'scope')]), 0, 'another tenant\'s id does not exist');
  assert.equal(await alerts.applyResolutions([toResolutionRow(res, 'scope')]), 1);
  // A second processor that read the state before the first wrote would write the same transition id.
  await store.writer.insert({ table: `${db}.alert_transitions`, format: 'JSONEachRow', values: [{ alert_id: id, tenant: s.tenant, transition_id: (await firstTransitionId(id)), state: 'resolved', actor: 'detector:scope', note: 'scope used' }] });
  assert.equal(await alerts.applyResolutions([toResolutionRow(res, 'scope')]), 0, 'already resolved');
  const a = await alerts.get(id);
  assert.equal(a?.state, 'resolved');
  assert.equal(a?.resolvedBy, 'detector:scope');
  assert.deepEqual(a?.history.map((h) => h.state), ['open', 'resolved'], 'one transition as far as reads go');
  assert.equal(await alerts.applyResolutions([toResolutionRow({ ...res, subject: 'never raised' }, 'scope')]), 0);
});

async function firstTransitionId(id: string): Promise<string> {
  const rs = await store.writer.query({ query: `SELECT transition_id FROM ${db}.alert_transitions WHERE alert_id = {id:String}`, query_params: { id }, format: 'JSONEachRow' });
  return (await rs.json<{ transition_id: string }>())[0]!.transition_id;
}

test('a tenant sees only its alerts; filters and pagination', async () => {
  const base = { kind: 'integrity.not_delegatee' as const, eventKey: 'k' };
  await storeSignals(store.writer, db, [
    signal({ ...base, tenant: 't1.example', subject: 'f1', severity: 'low', observedAtMs: 3_000, agents: ['spiffe://t1.example/a'], taskId: 'task-a', human: 'h1' }),
    signal({ ...base, tenant: 't1.example', subject: 'f2', severity: 'critical', observedAtMs: 2_000, agents: ['spiffe://t1.example/b'], taskId: 'task-b', human: 'h2' }),
    signal({ ...base, tenant: 't2.example', subject: 'f3', severity: 'high', observedAtMs: 1_000, agents: ['spiffe://t2.example/c'], taskId: 'task-c', human: 'h1' }),
  ]);
  const kind = 'integrity.not_delegatee' as const;
  const t1 = await alerts.list({ kind, tenants: ['t1.example'] });
  assert.deepEqual(t1.items.map((a) => a.subject), ['f1', 'f2'], 'most recently seen first');
  assert.deepEqual((await alerts.list({ kind, tenants: [] })).items, []);
  const f3 = alertId({ kind, tenant: 't2.example', subject: 'f3', windowStartMs: 0 });
  assert.equal(await alerts.get(f3, ['t1.example']), undefined, 'another tenant\'s alert reads as absent');
  assert.equal(await alerts.resolve(f3, 'x', '', ['t1.example']), undefined, 'and cannot be resolved');
  assert.equal((await alerts.view(f3))?.state, 'open');
  assert.deepEqual((await alerts.list({ kind, severity: 'high' })).items.map((a) => a.subject), ['f2', 'f3'], 'minimum severity');
  assert.deepEqual((await alerts.list({ kind, agent: 'spiffe://t1.example/b' })).items.map((a) => a.subject), ['f2']);
  assert.deepEqual((await alerts.list({ kind, human: 'h1' })).items.map((a) => a.subject), ['f1', 'f3']);
  assert.deepEqual((await alerts.list({ kind, task: 'task-c' })).items.map((a) => a.subject), ['f3']);
  assert.deepEqual((await alerts.list({ kind, sinceMs: 2_000, untilMs: 3_000 })).items.map((a) => a.subject), ['f2']);
  await alerts.acknowledge(f3, 'x', '');
  assert.deepEqual((await alerts.list({ kind, state: 'acknowledged' })).items.map((a) => a.subject), ['f3']);
  const p1 = await alerts.list({ kind, limit: 2 });
  assert.equal(p1.items.length, 2);
  assert.ok(p1.next);
  const p2 = await alerts.list({ kind, limit: 2, after: p1.next });
  assert.deepEqual(p2.items.map((a) => a.subject), ['f3']);
  assert.equal(p2.next, null);
});

test('changesSince: firing, updated and resolved changes, each under a stable key', async () => {
  const start = (await alerts.changesSince(null, 1_000_000)).cursor;
  const s = signal({ subject: 'changes', kind: 'agent.rate_spike', eventKey: 'c1' });
  await nextMs();
  await storeSignals(store.writer, db, [s]);
  let c = await alerts.changesSince(start);
  const mine = (x: typeof c) => x.changes.filter((ch) => ch.alert.subject === 'changes');
  assert.deepEqual(mine(c).map((ch) => ch.change), ['firing']);
  const firingKey = mine(c)[0]!.key;
  assert.equal(mine(await alerts.changesSince(start))[0]!.key, firingKey, 'read twice, same key');
  await nextMs();
  await alerts.resolve(mine(c)[0]!.alert.id, 'analyst', 'done');
  c = await alerts.changesSince(c.cursor);
  assert.deepEqual(mine(c).map((ch) => ch.change), ['resolved']);
});

test('changesSince under a flood: a poll answers at most its limit and the next one goes on from there', async () => {
  const start = (await alerts.changesSince(null, 1_000_000)).cursor;
  await nextMs();
  await storeSignals(store.writer, db, [1, 2, 3, 4, 5].map((i) => signal({ subject: `flood-${i}`, kind: 'resource.many_agents' })));
  const seen = new Set<string>();
  let cursor = start;
  for (let polls = 0; polls < 10; polls++) {
    const c = await alerts.changesSince(cursor, 2);
    for (const ch of c.changes) if (ch.alert.subject.startsWith('flood-')) seen.add(ch.alert.subject);
    if (c.changes.length < 2) break;
    cursor = c.cursor;
  }
  assert.equal(seen.size, 5);
});
