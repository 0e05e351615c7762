import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { openTestStore, type TestStore } from '../support/store.js';
import { actionRow, insertRows } from '../support/detect-rows.js';
import { createCrossAgentDetector, createCrossAgentStream } from '../../src/detect/cross-agent/detector.js';
import { parseCrossAgentConfig } from '../../src/detect/cross-agent/config.js';
import { windowStart } from '../../src/detect/cross-agent/resource-rules.js';
import { alertId, type AlertSignal } from '../../src/detect/alert.js';
import type { ActionRow } from '../../src/correlate/rows.js';
import type { DetectorContext } from '../../src/detect/detector.js';
import { AlertStore } from '../../src/alert/store.js';
import { deliver } from '../support/detect-deliver.js';

const SEC = 1000;
const problems: string[] = [];
// Short windows, as tests and the demo configure them.
const cfg = parseCrossAgentConfig({
  interval_sec: 5,
  many_agents: { window_sec: 10, min_agents: 4, min_chains: 0 },
  cross_task: { window_sec: 10, min_humans: 2, ignore_resources: ['wiki/shared-*'] },
  rate_spike: { window_sec: 2, baseline_sec: 60, factor: 3, floor: 20, min_history: 5 },
}, '/cross_agent', problems);

const agent = (name: string, i = 1) => `spiffe://acme.example/agent/${name}/i-${i}`;
const ALICE = 'alice@acme.example';
const MALLORY = 'mallory@acme.example';

let store: TestStore;
let ctx: DetectorContext;
// Evaluation time, on a minute boundary; "now" is its last 10-s window, baselines sit in the minute before.
const NOW = windowStart(Date.now() - 60 * SEC, 60 * SEC) + 58 * SEC;
const CUR = windowStart(NOW, 10 * SEC); // the current resource window
const rows: ActionRow[] = [];

function act(agentId: string, resource: string, atMs: number, human = ALICE, task = 'task-alice', chain = `chain-${agentId}`): ActionRow {
  const r = actionRow({ agent_id: agentId, resource, atMs, root_human: human, task_id: task, chain_hash: chain });
  rows.push(r);
  return r;
}

before(async () => {
  assert.deepEqual(problems, []);
  store = await openTestStore();
  ctx = { client: store.reader, database: store.config.database, logger: pino({ level: 'silent' }) };
  // Normal traffic: alice's three agents share a bucket (below 4), a shared wiki page touched by both humans is ignored by
  // configuration, a steady agent acts ~10 times per 2-s window throughout the baseline and now.
  for (let i = 1; i <= 3; i++) act(agent('inventory', i), 'arn:aws:s3:::reports', CUR + i * SEC);
  act(agent('writer'), 'wiki/shared-INFRA', CUR + SEC);
  act(agent('writer', 2), 'wiki/shared-INFRA', CUR + 2 * SEC, MALLORY, 'task-mallory');
  for (let w = NOW - 50 * SEC; w < NOW + 2 * SEC; w += 2 * SEC) for (let k = 0; k < 10; k++) act(agent('steady'), `r-steady-${k}`, windowStart(w, 2 * SEC) + k * 100);
  // Anomalies: five agents on one bucket in one window; alice's and mallory's agents on one resource; an agent at
  // ~5 per window that suddenly acts 40 times; and a newcomer acting 40 times with no history (not judged).
  for (let i = 1; i <= 5; i++) act(agent('scanner', i), 'arn:aws:s3:::payroll', CUR + i * SEC, ALICE, `task-${i}`);
  act(agent('cost'), 'arn:aws:ce:::billing', CUR + SEC);
  act(agent('exfil'), 'arn:aws:ce:::billing', CUR + 3 * SEC, MALLORY, 'task-mallory');
  for (let w = NOW - 40 * SEC; w < NOW - 4 * SEC; w += 2 * SEC) for (let k = 0; k < 5; k++) act(agent('spiky'), 'r-spiky', windowStart(w, 2 * SEC) + k * 100);
  for (let k = 0; k < 40; k++) act(agent('spiky'), 'r-spiky', windowStart(NOW, 2 * SEC) + k * 10);
  for (let w = NOW - 10 * SEC; w < NOW - 4 * SEC; w += 2 * SEC) act(agent('newcomer'), 'r-new', windowStart(w, 2 * SEC));
  for (let k = 0; k < 40; k++) act(agent('newcomer'), 'r-new', windowStart(NOW, 2 * SEC) + k * 10);
  // Failed actions touch nothing (the verification and integrity detectors own them).
  for (let i = 1; i <= 6; i++) rows.push(actionRow({ agent_id: agent('forged', i), resource: 'arn:aws:s3:::secrets', atMs: CUR + SEC, verdict: 'failed', reasons: ['agent.mismatch'] }));
  // Every row twice: a redelivery before the table merges it.
  await insertRows(store.writer, `${store.config.database}.actions`, [...rows, ...rows]);
});
after(async () => store.close());

const ids = (signals: AlertSignal[]) => signals.map((s) => `${s.kind} ${s.subject} ${s.windowStartMs}`).sort();

test('injected anomalies raise their alerts; normal traffic stays quiet', async () => {
  const out = await createCrossAgentDetector(cfg).evaluate(ctx, NOW);
  assert.deepEqual(ids(out.signals), [
    `agent.rate_spike ${agent('spiky')} ${windowStart(NOW, 2 * SEC)}`,
    `resource.cross_task arn:aws:ce:::billing ${CUR}`,
    `resource.many_agents arn:aws:s3:::payroll ${CUR}`,
  ]);
  const spike = out.signals.find((s) => s.kind === 'agent.rate_spike')!;
  assert.equal(spike.evidence.facts.actions, 40, 'distinct spans: the redelivered copies count once');
  assert.equal(spike.evidence.facts.baseline_p95, 5);
  const many = out.signals.find((s) => s.kind === 'resource.many_agents')!;
  assert.equal(many.evidence.facts.agents, 5);
  assert.equal(many.tenant, 'acme.example');
  const cross = out.signals.find((s) => s.kind === 'resource.cross_task')!;
  assert.deepEqual(cross.evidence.facts.humans, [ALICE, MALLORY]);
});

test('two evaluators, and the streaming half, raise the same alerts: same ids, same triggers', async () => {
  const key = (s: AlertSignal) => `${alertId(s)}/${s.eventKey}`;
  const a = await createCrossAgentDetector(cfg).evaluate(ctx, NOW);
  const b = await createCrossAgentDetector(cfg).evaluate(ctx, NOW + 3 * SEC);
  assert.deepEqual(new Set(b.signals.map(key)), new Set(a.signals.map(key)));
  // One processor streaming every row raises the resource alerts with the same identity.
  const stream = createCrossAgentStream(cfg);
  const streamed = stream.observe({ nowMs: NOW, actions: rows, delegations: [] }).signals;
  assert.deepEqual(streamed.map(key).sort(), a.signals.filter((s) => s.kind !== 'agent.rate_spike').map(key).sort());
  // Delivered as the pipeline delivers them: one alert each, one trigger each.
  const alerts = new AlertStore(store.writer, store.config.database);
  await deliver(store, alerts, 'cross_agent.stream', { signals: streamed });
  await deliver(store, alerts, 'cross_agent', a);
  await deliver(store, alerts, 'cross_agent', b);
  const listed = (await alerts.list({})).items;
  assert.deepEqual(listed.map((v) => v.kind).sort(), ['agent.rate_spike', 'resource.cross_task', 'resource.many_agents']);
  assert.ok(listed.every((v) => v.count === 1 && v.state === 'open'));
});

test('a restarted stream starts from what the store holds: it does not relearn the window', async () => {
  const fresh = createCrossAgentStream(cfg);
  const seeded = createCrossAgentStream(cfg);
  await seeded.start!(ctx, NOW);
  // One more agent, mallory's, on alice's reports bucket: only a stream that remembers alice's three agents sees
  // two humans and four agents.
  const late = actionRow({ agent_id: agent('late'), resource: 'arn:aws:s3:::reports', atMs: CUR + 7 * SEC, root_human: MALLORY, task_id: 'task-mallory' });
  assert.deepEqual(fresh.observe({ nowMs: NOW, actions: [late], delegations: [] }).signals, []);
  const out = seeded.observe({ nowMs: NOW, actions: [late], delegations: [] }).signals;
  assert.deepEqual(ids(out), [`resource.cross_task arn:aws:s3:::reports ${CUR}`, `resource.many_agents arn:aws:s3:::reports ${CUR}`]);
});

test('a hostile resource name is only ever a parameter: judged, named exactly, nothing else touched', async () => {
  const hostile = "x'); DROP TABLE actions; --\u0000{w:Int64}\\";
  const db = store.config.database;
  const NEXT = CUR + 60 * SEC; // a window of its own
  await insertRows(store.writer, `${db}.actions`, [1, 2, 3, 4].map((i) => actionRow({ agent_id: agent('odd', i), resource: hostile, atMs: NEXT + i * SEC, chain_hash: `odd-${i}` })));
  const out = await createCrossAgentDetector(cfg).evaluate(ctx, NEXT + 8 * SEC);
  const s = out.signals.find((x) => x.kind === 'resource.many_agents' && x.windowStartMs === NEXT);
  assert.equal(s?.subject, hostile);
  const stream = createCrossAgentStream(cfg);
  const streamed = stream.observe({ nowMs: NEXT + 8 * SEC, actions: [1, 2, 3, 4].map((i) => actionRow({ agent_id: agent('odd', i), resource: hostile, atMs: NEXT + i * SEC })), delegations: [] }).signals;
  assert.equal(alertId(streamed[0]!), alertId(s!));
  const rs = await store.reader.query({ query: `SELECT count() AS n FROM ${db}.actions`, format: 'JSONEachRow' });
  assert.ok(Number((await rs.json<{ n: string }>())[0]!.n) > 0);
});
