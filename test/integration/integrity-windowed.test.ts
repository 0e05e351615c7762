/**
 * Detector 5's windowed reads on chdb (or CLICKHOUSE_URL): verification
 * bursts counted per agent, reason and window over the actions table, and
 * link reuse over delegations, chain links and actions; anomalies found,
 * normal traffic and redeliveries quiet, re-evaluation idempotent.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { VerificationBurstDetector } from '../../src/detect/integrity/burst.js';
import { LinkReuseDetector } from '../../src/detect/integrity/link-reuse.js';
import { parseIntegrityConfig } from '../../src/detect/integrity/config.js';
import { AlertStore } from '../../src/alert/store.js';
import type { DetectorContext } from '../../src/detect/detector.js';
import type { DelegationRow } from '../../src/correlate/rows.js';
import { createLogger } from '../../src/runtime/logger.js';
import { openTestStore, type TestStore } from '../support/store.js';
import { actionRow, storeSignals } from '../support/alerts.js';

let store: TestStore;
let ctx: DetectorContext;
const cfg = parseIntegrityConfig({}, '/integrity', []);
const X = 'spiffe://co.example/agent/x';
const Y = 'spiffe://co.example/agent/y';
const Z = 'spiffe://co.example/agent/z';
const NOW = Date.UTC(2026, 10, 29, 12, 2, 0);

before(async () => {
  store = await openTestStore();
  ctx = { client: store.writer, database: store.config.database, logger: createLogger('silent') };
});
after(() => store.close());

const insert = (table: string, values: object[]) => store.writer.insert({ table: `${store.config.database}.${table}`, format: 'JSONEachRow', values });
const bad = [{ code: 'signature.invalid' as const, link: 0, message: 'bad signature' }];

test('burst: an agent failing one reason often enough in the window raises; a redelivered span, a quiet agent and an old window do not', async () => {
  const rows = [
    // X: 12 distinct failing spans in the window.
    ...Array.from({ length: 12 }, (_, i) => actionRow({ agentId: X, spanId: `x${i}`.padStart(16, '0'), taskId: 'tb' }, bad, null, NOW - 60_000 + i)),
    // Y: one span delivered 12 times.
    ...Array.from({ length: 12 }, (_, i) => actionRow({ agentId: Y, spanId: 'y'.padStart(16, '0'), taskId: 'tb' }, bad, null, NOW - 60_000 + i)),
    // Z: 3 failures, and 12 more a day ago.
    ...Array.from({ length: 3 }, (_, i) => actionRow({ agentId: Z, spanId: `z${i}`.padStart(16, '0'), taskId: 'tb' }, bad, null, NOW - 60_000 + i)),
    ...Array.from({ length: 12 }, (_, i) => actionRow({ agentId: Z, spanId: `zo${i}`.padStart(16, '0'), taskId: 'tb' }, bad, null, NOW - 86_400_000 + i)),
    // Verified traffic from X.
    ...Array.from({ length: 20 }, (_, i) => actionRow({ agentId: X, spanId: `v${i}`.padStart(16, '0'), taskId: 'tb' }, [], null, NOW - 30_000 + i)),
  ];
  await insert('actions', rows);
  const detector = new VerificationBurstDetector(cfg.burst);
  const { signals } = await detector.evaluate(ctx, NOW);
  assert.deepEqual(signals.map((s) => s.subject), [`signature.invalid from ${X}`]);
  assert.equal(signals[0]!.evidence.facts.failures, 12);
  assert.equal(signals[0]!.severity, 'high');
  // Evaluated twice (two processors, or the next interval): still one alert, one trigger.
  await storeSignals(store.writer, store.config.database, signals, detector.name);
  await storeSignals(store.writer, store.config.database, (await detector.evaluate(ctx, NOW + 1000)).signals, detector.name);
  const alerts = await new AlertStore(store.writer, store.config.database).list({ kind: 'integrity.verification_burst' });
  assert.equal(alerts.items.length, 1);
  assert.equal(alerts.items[0]!.count, 1);
});

const link = (over: Partial<DelegationRow>): DelegationRow => ({
  link_hash: 'h', jti: 'j', task_id: 't', delegator: X, delegatee: Y, delegator_kind: 'agent', scopes: ['cloud:read'], issued_at: NOW - 600_000,
  not_before: NOW - 600_000, expires_at: NOW + 600_000, parent_hash: '', depth: 2, trust_domain: 'co.example', kid: 'k', alg: 'EdDSA', purpose: 'p', valid: true, first_seen: NOW - 60_000, ...over,
});

test('link reuse: a jti in two links, or a chain replayed in another task, raises; single uses stay quiet', async () => {
  await insert('delegations', [
    link({ link_hash: 'h1', jti: 'dup', task_id: 'ta' }),
    link({ link_hash: 'h2', jti: 'dup', task_id: 'tb' }),
    link({ link_hash: 'h3', jti: 'replayed', task_id: 'tc' }),
    link({ link_hash: 'h4', jti: 'normal', task_id: 'td' }),
  ]);
  await insert('chain_links', [
    { chain_hash: 'c-replayed', task_id: 'tc', link_hashes: ['h3'], first_seen: NOW - 60_000 },
    { chain_hash: 'c-normal', task_id: 'td', link_hashes: ['h4'], first_seen: NOW - 60_000 },
  ]);
  const withChain = (chainHash: string, taskId: string, spanId: string) => ({ ...actionRow({ agentId: Y, taskId, spanId }, [], null, NOW - 10_000), chain_hash: chainHash });
  await insert('actions', [
    withChain('c-replayed', 'tc', 'r1'.padStart(16, '0')),
    withChain('c-replayed', 'te', 'r2'.padStart(16, '0')),
    withChain('c-normal', 'td', 'n1'.padStart(16, '0')),
    withChain('c-normal', 'td', 'n2'.padStart(16, '0')),
  ]);
  const { signals } = await new LinkReuseDetector(cfg.linkReuse).evaluate(ctx, NOW);
  assert.deepEqual(signals.map((s) => `${s.subject} ${s.eventKey}`).sort(), [
    'jti dup link/h1', 'jti dup link/h2', 'jti dup task/ta', 'jti dup task/tb',
    'jti replayed task/tc', 'jti replayed task/te',
  ]);
  assert.ok(signals.every((s) => s.tenant === 'co.example' && s.kind === 'integrity.link_reuse'));
  const later = await new LinkReuseDetector(cfg.linkReuse).evaluate(ctx, NOW + 30 * 86_400_000);
  assert.deepEqual(later.signals, [], 'outside the lookback');
});
