import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { openTestStore, type TestStore } from '../support/store.js';
import { actionRow, delegationRow, insertRows } from '../support/detect-rows.js';
import { createScopeDetector } from '../../src/detect/scope/detector.js';
import { parseScopeConfig } from '../../src/detect/scope/config.js';
import { alertId } from '../../src/detect/alert.js';
import type { DetectorContext } from '../../src/detect/detector.js';
import { AlertStore } from '../../src/alert/store.js';
import { deliver } from '../support/detect-deliver.js';

const IMPLICATIONS = {
  'infrastructure:review': ['cloud:read', 'billing:read'],
  'cloud:read': ['ec2:Describe*', 's3:List*', 'compute.instances.list'],
  'billing:read': ['ce:Get*'],
};
const H = 'alice@acme.example';
const P = 'spiffe://acme.example/agent/planning/p-1';
const INV = 'spiffe://acme.example/agent/inventory/i-1';
const COST = 'spiffe://acme.example/agent/cost/c-1';
const OTHER = 'spiffe://globex.example/agent/reader/r-1';
const SEC = 1000;

let store: TestStore;
let ctx: DetectorContext;
let alerts: AlertStore;
// On an evaluation-interval boundary (5 s), so evaluations at t0 + 60 s … t0 + 64 s fall in one interval.
const t0 = Math.floor(Date.now() / 5000) * 5000;
// A short tracking window, as the demo and tests configure it: grants issued before t0 stand for the whole window at t0 + 60 s.
const problems: string[] = [];
const cfg = parseScopeConfig({ window_sec: 60, current_sec: 3600, interval_sec: 5 }, '/scope', problems);
const at = t0 + 60 * SEC;

before(async () => {
  store = await openTestStore();
  ctx = { client: store.reader, database: store.config.database, logger: pino({ level: 'silent' }), implications: IMPLICATIONS };
  const db = store.config.database;
  alerts = new AlertStore(store.writer, db);
  assert.deepEqual(problems, []);
  // Alice → planning (infrastructure:review), planning → inventory (cloud:read), planning → cost (billing:read),
  // all granted first before the window and again since.
  const links = [
    delegationRow({ delegator: H, delegatee: P, scopes: ['infrastructure:review'], issued_at: t0 - 10 * SEC, delegator_kind: 'human' }),
    delegationRow({ delegator: H, delegatee: P, scopes: ['infrastructure:review'], issued_at: t0 + 30 * SEC, delegator_kind: 'human' }),
    delegationRow({ delegator: P, delegatee: INV, scopes: ['cloud:read'], issued_at: t0 - 10 * SEC }),
    delegationRow({ delegator: P, delegatee: INV, scopes: ['cloud:read'], issued_at: t0 + 30 * SEC }),
    delegationRow({ delegator: P, delegatee: COST, scopes: ['billing:read'], issued_at: t0 - 10 * SEC }),
    // Another tenant's agent, granted only inside the window: too young to judge.
    delegationRow({ delegator: 'bob@globex.example', delegatee: OTHER, scopes: ['cloud:read'], issued_at: t0 + 10 * SEC, delegator_kind: 'human' }),
    // A link that failed verification grants nothing.
    delegationRow({ delegator: P, delegatee: COST, scopes: ['iam:*'], issued_at: t0 - 10 * SEC, valid: false }),
  ];
  await insertRows(store.writer, `${db}.delegations`, links);
  const invPath = [H, P, INV];
  const costPath = [H, P, COST];
  const acts = [
    // Inventory uses one permission of three, twice (a redelivery repeats a row).
    actionRow({ agent_id: INV, chain_path: invPath, scopes_used: ['ec2:DescribeInstances'], atMs: t0 + 20 * SEC }),
    actionRow({ agent_id: INV, chain_path: invPath, scopes_used: ['ec2:DescribeInstances'], atMs: t0 + 21 * SEC }),
    // Cost uses everything billing:read reaches.
    actionRow({ agent_id: COST, chain_path: costPath, scopes_used: ['ce:GetCostAndUsage'], atMs: t0 + 20 * SEC }),
    // A failed action's exceeded scope counts as no use.
    actionRow({ agent_id: INV, chain_path: invPath, scopes_used: ['s3:ListBuckets'], atMs: t0 + 22 * SEC, verdict: 'failed', reasons: ['agent.mismatch'] }),
    actionRow({ agent_id: OTHER, chain_path: ['bob@globex.example', OTHER], scopes_used: ['ec2:DescribeInstances'], atMs: t0 + 20 * SEC }),
  ];
  await insertRows(store.writer, `${db}.actions`, [...acts, acts[0]!]);
});
after(async () => store.close());

test('an over-provisioned grant is raised per agent, with unused scopes, share and suggestion; normal grants stay quiet', async () => {
  const out = await createScopeDetector(cfg).evaluate(ctx, at);
  const bySubject = new Map(out.signals.map((s) => [s.subject, s]));
  assert.deepEqual([...bySubject.keys()].sort(), [INV, P].sort(), 'cost used all of billing:read; globex is too young; one alert per agent, no repeats per type or edge');
  const inv = bySubject.get(INV)!;
  assert.equal(inv.evidence.facts.usage_share, '33%');
  assert.deepEqual(inv.evidence.facts.unused, ['compute.instances.list (never used)', 's3:List* (never used)']);
  assert.deepEqual(inv.evidence.facts.suggested_grant, ['ec2:DescribeInstances']);
  assert.equal(inv.tenant, 'acme.example');
  // Planning's grant is used through its delegates: ec2 and ce out of ec2, s3, compute, ce.
  const plan = bySubject.get(P)!;
  assert.equal(plan.evidence.facts.usage_share, '50%');
  assert.deepEqual(plan.evidence.facts.suggested_grant, ['billing:read', 'ec2:DescribeInstances']);
  assert.equal(plan.human, H);
  assert.ok(out.resolutions?.some((r) => r.subject === COST), 'the fully used grant says it is not over-provisioned');
  assert.ok(!out.resolutions?.some((r) => r.subject === INV));
});

test('two evaluators raise each alert once: one alert per subject in the alert store, counted once per interval', async () => {
  const a = await createScopeDetector(cfg).evaluate(ctx, at);
  const b = await createScopeDetector(cfg).evaluate(ctx, at + 4 * SEC);
  const key = (s: (typeof a.signals)[number]) => `${alertId(s)}/${s.eventKey}`;
  assert.deepEqual(a.signals.map(key).sort(), b.signals.map(key).sort());
  await deliver(store, alerts, 'scope', a);
  await deliver(store, alerts, 'scope', b);
  const listed = (await alerts.list({ kind: 'scope.over_provisioned' })).items;
  assert.deepEqual(listed.map((v) => v.subject).sort(), [INV, P].sort());
  assert.ok(listed.every((v) => v.count === 1 && v.state === 'open'));
  const inv = await alerts.get(alertId({ kind: 'scope.over_provisioned', tenant: 'acme.example', subject: INV, windowStartMs: 0 }));
  assert.deepEqual(inv?.evidence.facts.suggested_grant, ['ec2:DescribeInstances']);
  // The next interval's evaluation updates the same alert.
  await deliver(store, alerts, 'scope', await createScopeDetector(cfg).evaluate(ctx, at + 5 * SEC));
  assert.equal((await alerts.get(alertId(a.signals[0]!)))?.count, 2);
  assert.equal((await alerts.list({ kind: 'scope.over_provisioned' })).items.length, 2);
});

test('the alert resolves itself when the unused scopes get used', async () => {
  const db = store.config.database;
  await insertRows(store.writer, `${db}.actions`, [
    actionRow({ agent_id: INV, chain_path: [H, P, INV], scopes_used: ['s3:ListBuckets', 'compute.instances.list'], atMs: t0 + 61 * SEC }),
  ]);
  const out = await createScopeDetector(cfg).evaluate(ctx, at + 10 * SEC);
  assert.ok(!out.signals.some((s) => s.subject === INV));
  const r = out.resolutions?.find((x) => x.subject === INV);
  assert.ok(r);
  assert.match(r.reason, /every granted permission was used \(100%\)/);
  const id = alertId({ kind: 'scope.over_provisioned', tenant: 'acme.example', subject: INV, windowStartMs: 0 });
  assert.equal(alertId(r), id);
  await deliver(store, alerts, 'scope', out);
  await deliver(store, alerts, 'scope', out); // a second evaluator's resolution changes nothing more
  const resolved = await alerts.get(id);
  assert.equal(resolved?.state, 'resolved');
  assert.equal(resolved?.resolvedBy, 'detector:scope');
  assert.equal(resolved?.history.filter((h) => h.state === 'resolved').length, 1);
  // Planning's grant is now fully used too, through its inventory agent.
  assert.equal((await alerts.get(alertId({ kind: 'scope.over_provisioned', tenant: 'acme.example', subject: P, windowStartMs: 0 })))?.state, 'resolved');
});

test('the alert resolves itself when the grant shrinks (the unused scope is no longer granted)', async () => {
  const db = store.config.database;
  const P2 = 'spiffe://acme.example/agent/planning/p-2';
  const shrinkCfg = parseScopeConfig({ window_sec: 50, current_sec: 20, interval_sec: 5 }, '/scope', []);
  const detector = createScopeDetector(shrinkCfg);
  // p-2 holds infrastructure:review (granted before the window and again at t0 + 30 s) and billing:read, and uses only billing.
  await insertRows(store.writer, `${db}.delegations`, [
    delegationRow({ delegator: H, delegatee: P2, scopes: ['infrastructure:review'], issued_at: t0 - 10 * SEC, delegator_kind: 'human' }),
    delegationRow({ delegator: H, delegatee: P2, scopes: ['infrastructure:review', 'billing:read'], issued_at: t0 + 30 * SEC, delegator_kind: 'human' }),
    delegationRow({ delegator: H, delegatee: P2, scopes: ['billing:read'], issued_at: t0 - 5 * SEC, delegator_kind: 'human' }),
  ]);
  await insertRows(store.writer, `${db}.actions`, [actionRow({ agent_id: P2, chain_path: [H, P2], scopes_used: ['ce:GetCostAndUsage'], atMs: t0 + 40 * SEC })]);
  const first = await detector.evaluate(ctx, t0 + 45 * SEC);
  assert.equal(first.signals.find((s) => s.subject === P2)?.evidence.facts.usage_share, '25%');
  // From t0 + 70 s it is granted billing:read alone; infrastructure:review lapses.
  await insertRows(store.writer, `${db}.delegations`, [delegationRow({ delegator: H, delegatee: P2, scopes: ['billing:read'], issued_at: t0 + 70 * SEC, delegator_kind: 'human' })]);
  await insertRows(store.writer, `${db}.actions`, [actionRow({ agent_id: P2, chain_path: [H, P2], scopes_used: ['ce:GetCostAndUsage'], atMs: t0 + 72 * SEC })]);
  // Judged once its newest link has settled (settle_sec, 10 s by default, after it was recorded at t0 + 70 s).
  const later = await detector.evaluate(ctx, t0 + 85 * SEC);
  assert.ok(!later.signals.some((s) => s.subject === P2), 'infrastructure:review was last granted 45 s ago, beyond current = 20 s');
  assert.match(later.resolutions?.find((r) => r.subject === P2)?.reason ?? '', /every granted permission was used/);
});

test('a subject whose link was recorded within the settle time is neither raised nor resolved until it settles', async () => {
  const db = store.config.database;
  const P3 = 'spiffe://acme.example/agent/planning/p-3';
  const detector = createScopeDetector(cfg);
  // Granted before the window (issued at t0 - 10 s), but recorded only now, at t0 + 58 s: a backdated
  // link whose uses another writer has not stored yet (they arrive at t0 + 61 s).
  await insertRows(store.writer, `${db}.delegations`, [
    delegationRow({ delegator: H, delegatee: P3, scopes: ['billing:read'], issued_at: t0 - 10 * SEC, first_seen: t0 + 58 * SEC, delegator_kind: 'human' }),
  ]);
  const early = await detector.evaluate(ctx, at);
  assert.ok(!early.signals.some((s) => s.subject === P3), 'not raised: its uses may still be on their way');
  assert.ok(!early.resolutions?.some((r) => r.subject === P3), 'not resolved either');
  assert.ok(early.signals.length + (early.resolutions?.length ?? 0) > 0, 'other subjects are judged as before');
  // Unused once settled: raised.
  const settledUnused = await detector.evaluate(ctx, t0 + 69 * SEC);
  assert.equal(settledUnused.signals.find((s) => s.subject === P3)?.evidence.facts.usage_share, '0%');
  // Used (stored at t0 + 61 s): at the next evaluation it resolves.
  await insertRows(store.writer, `${db}.actions`, [actionRow({ agent_id: P3, chain_path: [H, P3], scopes_used: ['ce:GetCostAndUsage'], atMs: t0 + 61 * SEC })]);
  const settledUsed = await detector.evaluate(ctx, t0 + 70 * SEC);
  assert.ok(!settledUsed.signals.some((s) => s.subject === P3));
  assert.match(settledUsed.resolutions?.find((r) => r.subject === P3)?.reason ?? '', /every granted permission was used/);
});
