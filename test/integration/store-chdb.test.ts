import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openTestStore, type TestStore } from '../support/store.js';
import { makeSpan } from '../support/spans.js';
import { BatchWriter } from '../../src/store/writer.js';
import { Queries } from '../../src/store/queries.js';
import { migrate } from '../../src/store/migrate.js';
import { toActionRow, toDelegationRows } from '../../src/correlate/correlate.js';
import type { ActionRow, DelegationRow } from '../../src/correlate/rows.js';
import type { ChainCheck, ChainSummary } from '../../src/model/delegation.js';
import { VERIFIED, failed } from '../../src/model/verdict.js';

let store: TestStore;
let actions: BatchWriter<ActionRow>;
let queries: Queries;

const summary: ChainSummary = {
  rootHuman: 'alice@co.example',
  rootIssuedAtMs: Date.UTC(2026, 2, 27, 14, 0, 0),
  purpose: 'quarterly infrastructure review',
  depth: 2,
  path: ['alice@co.example', 'spiffe://co.example/agent/planning/p-1', 'spiffe://co.example/agent/inventory/i-1'],
  delegator: 'spiffe://co.example/agent/planning/p-1',
  grantedScopes: ['ec2:Describe*'],
  linkHashes: ['h0', 'h1'],
};

before(async () => {
  store = await openTestStore();
  actions = new BatchWriter(store.writer, `${store.config.database}.actions`, { maxRows: 1000, maxDelayMs: 5 });
  queries = new Queries(store.reader, store.config.database);
});
after(async () => store.close());

test('migrating an up-to-date store applies nothing', async () => {
  const report = await migrate(store.writer, store.config.database);
  assert.deepEqual(report.applied, []);
  assert.deepEqual(report.alreadyApplied.slice(0, 2), ['001_actions', '002_delegations']);
});

test('a later verdict on a span wins in every query, whatever order the rows arrived in, before and after merges', async () => {
  const db = store.config.database;
  const t0 = Date.now();
  // Revoked: the earlier row verified, the later one failed. Reinstated: the reverse. Both written newest-first
  // for one span and oldest-first for the other, so neither insertion order nor part order picks the answer.
  const revoked = makeSpan({ taskId: 'task-reverdict' });
  const reinstated = makeSpan({ taskId: 'task-reverdict' });
  const revokedFailed = failed([{ code: 'signature.invalid', link: 0, message: 'key revoked' }]);
  await actions.write([toActionRow(revoked, revokedFailed, summary, 'chain-h', t0 + 5000)]);
  await actions.write([toActionRow(revoked, VERIFIED, summary, 'chain-h', t0)]);
  await actions.write([toActionRow(reinstated, revokedFailed, summary, 'chain-h', t0)]);
  await actions.write([toActionRow(reinstated, VERIFIED, summary, 'chain-h', t0 + 5000)]);
  const check = async (when: string) => {
    const got = await queries.taskActions('task-reverdict');
    assert.equal(got.length, 2, when);
    const bySpan = new Map(got.map((a) => [a.span_id, a]));
    assert.equal(bySpan.get(revoked.spanId)?.verdict, 'failed', `${when}: the revocation wins`);
    assert.deepEqual(bySpan.get(revoked.spanId)?.reasons, ['signature.invalid'], when);
    assert.equal(bySpan.get(reinstated.spanId)?.verdict, 'verified', `${when}: the later verification wins`);
    assert.deepEqual(bySpan.get(reinstated.spanId)?.reasons, [], when);
    const [task] = (await queries.listTasks({ limit: 1000 })).tasks.filter((t) => t.task_id === 'task-reverdict');
    assert.equal(task?.actions, 2, when);
    assert.equal(task?.failed, 1, `${when}: the task list counts the newest verdicts`);
    assert.ok((await queries.listTasks({ verdict: 'failed', limit: 1000 })).tasks.some((t) => t.task_id === 'task-reverdict'), when);
  };
  await check('before merges');
  await store.writer.command({ query: `OPTIMIZE TABLE ${db}.actions FINAL` });
  const raw = await store.reader.query({ query: `SELECT count() AS n FROM ${db}.actions WHERE task_id = 'task-reverdict'`, format: 'JSONEachRow' });
  assert.equal(Number((await raw.json<{ n: string }>())[0]?.n), 2, 'the merge kept one row per span');
  await check('after merges');
});

test('a later judgement of a delegation link wins', async () => {
  const delegations = new BatchWriter<DelegationRow>(store.writer, `${store.config.database}.delegations`, { maxRows: 100, maxDelayMs: 5 });
  const check: ChainCheck = {
    reasons: [],
    links: [{ hash: 'L-rejudged', kid: 'authz', alg: 'EdDSA', trustDomain: 'co.example', claims: { iss: 'alice@co.example', sub: 'spiffe://co.example/agent/rejudged/r-1', scope: ['a'], iat: 1, nbf: 1, exp: 100, jti: 'jr', task: 'task-rejudged' } }],
  };
  const [row] = toDelegationRows(check, Date.now());
  await delegations.write([{ ...row!, valid: false, first_seen: row!.first_seen + 5000 }]);
  await delegations.write([row!]);
  const got = await queries.agentDelegations('spiffe://co.example/agent/rejudged/r-1');
  assert.equal(got.length, 1);
  assert.equal(got[0]?.valid, false);
});

test('re-delivered spans appear once in the tree and task queries', async () => {
  const spans = Array.from({ length: 20 }, () => makeSpan({ taskId: 'task-dedup' }));
  const rows = spans.map((s) => toActionRow(s, VERIFIED, summary, 'chain-h', Date.now()));
  await actions.write(rows);
  // The same spans again, as Kafka or an exporter retry would deliver them, in a later batch.
  await actions.write(rows.slice(0, 10).map((r) => ({ ...r, received_at: Date.now() + 1000 })));
  const got = await queries.taskActions('task-dedup');
  assert.equal(got.length, 20);
  assert.equal(new Set(got.map((a) => a.span_id)).size, 20);
  const [task] = await queries.listTasks({ human: 'alice@co.example' }).then((p) => p.tasks.filter((t) => t.task_id === 'task-dedup'));
  assert.ok(task);
  assert.equal(task.actions, 20);
  assert.equal(task.root_human, 'alice@co.example');
  assert.equal(task.purpose, 'quarterly infrastructure review');
});

test('concurrent writers coalesce and every caller is acknowledged', async () => {
  const writes = Array.from({ length: 8 }, (_, i) =>
    actions.write(Array.from({ length: 25 }, () => toActionRow(makeSpan({ taskId: 'task-concurrent', agentId: `agent-${i}` }), VERIFIED, null, '', Date.now()))),
  );
  await Promise.all(writes);
  const got = await queries.taskActions('task-concurrent');
  assert.equal(got.length, 200);
});

test('task filters: verdict, agent, time range', async () => {
  const bad = makeSpan({ taskId: 'task-flagged', startMs: Date.UTC(2030, 0, 1), startNs: `${Date.UTC(2030, 0, 1)}000000` });
  await actions.write([
    toActionRow(bad, failed([{ code: 'scope.exceeded', link: 1, message: 'used s3:DeleteBucket' }]), summary, 'c', Date.now()),
  ]);
  const failedTasks = (await queries.listTasks({ verdict: 'failed' })).tasks;
  assert.ok(failedTasks.some((t) => t.task_id === 'task-flagged'));
  assert.ok(!failedTasks.some((t) => t.task_id === 'task-dedup'));
  const verifiedTasks = (await queries.listTasks({ verdict: 'verified' })).tasks;
  assert.ok(verifiedTasks.some((t) => t.task_id === 'task-dedup'));
  const byAgent = (await queries.listTasks({ agent: 'agent-3' })).tasks;
  assert.deepEqual(byAgent.map((t) => t.task_id), ['task-concurrent']);
  const in2030 = (await queries.listTasks({ fromMs: Date.UTC(2029, 11, 31), toMs: Date.UTC(2030, 0, 2) })).tasks;
  assert.deepEqual(in2030.map((t) => t.task_id), ['task-flagged']);
  const stored = await queries.taskActions('task-flagged');
  assert.deepEqual(stored[0]?.reasons, ['scope.exceeded']);
  assert.deepEqual(stored[0]?.reason_details, ['link 1: used s3:DeleteBucket']);
});

test('hostile values are only ever parameters', async () => {
  const evil = "task-1' OR 1=1 --";
  assert.deepEqual(await queries.taskActions(evil), []);
  assert.deepEqual((await queries.listTasks({ human: "x' OR '1'='1" })).tasks, []);
  await actions.write([toActionRow(makeSpan({ taskId: evil }), VERIFIED, null, '', Date.now())]);
  const got = await queries.taskActions(evil);
  assert.equal(got.length, 1);
});

test('delegations: one row per link, found by either end', async () => {
  const delegations = new BatchWriter<DelegationRow>(store.writer, `${store.config.database}.delegations`, { maxRows: 100, maxDelayMs: 5 });
  const check: ChainCheck = {
    reasons: [{ code: 'scope.escalated', link: 1, message: 'x' }],
    links: [
      { hash: 'L0', kid: 'authz', alg: 'EdDSA', trustDomain: 'co.example', claims: { iss: 'alice@co.example', sub: 'spiffe://co.example/agent/planning/p-1', scope: ['infrastructure:review'], iat: 1, nbf: 1, exp: 100, jti: 'j0', task: 't', purpose: 'review' } },
      { hash: 'L1', kid: 'planning', alg: 'EdDSA', trustDomain: 'co.example', claims: { iss: 'spiffe://co.example/agent/planning/p-1', sub: 'spiffe://co.example/agent/cost/c-1', scope: ['billing:*'], iat: 2, nbf: 2, exp: 50, jti: 'j1', task: 't', prf: 'L0' } },
    ],
  };
  const rows = toDelegationRows(check, Date.now());
  assert.deepEqual(rows.map((r) => r.valid), [true, false]);
  await delegations.write(rows);
  await delegations.write(rows); // again: still one each
  const planning = await queries.agentDelegations('spiffe://co.example/agent/planning/p-1');
  assert.deepEqual(planning.map((d) => d.link_hash).sort(), ['L0', 'L1']);
  const cost = await queries.agentDelegations('spiffe://co.example/agent/cost/c-1');
  assert.equal(cost.length, 1);
  assert.equal(cost[0]?.delegator, 'spiffe://co.example/agent/planning/p-1');
  assert.equal(cost[0]?.valid, false);
});

test('a failed INSERT rejects its callers and the writer keeps working', async () => {
  const broken = new BatchWriter<ActionRow>(store.writer, `${store.config.database}.no_such_table`, { maxRows: 10, maxDelayMs: 1 });
  await assert.rejects(broken.write([toActionRow(makeSpan(), VERIFIED, null, '', Date.now())]));
  await actions.write([toActionRow(makeSpan({ taskId: 'task-after-error' }), VERIFIED, null, '', Date.now())]);
  assert.equal((await queries.taskActions('task-after-error')).length, 1);
});
