import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openTestStore, testStoreConfig, type TestStore } from '../support/store.js';
import { makeSpan } from '../support/spans.js';
import { BatchWriter } from '../../src/store/writer.js';
import { Queries, InvalidCursor, type TaskFilter, type TaskSummary } from '../../src/store/queries.js';
import { DDL_DIR, migrate } from '../../src/store/migrate.js';
import { loadCatalog } from '../../src/store/migrations/catalog.js';
import { forDatabase } from '../../src/store/migrations/sql-text.js';
import { openClient } from '../../src/store/client.js';
import { toActionRow } from '../../src/correlate/correlate.js';
import type { ActionRow } from '../../src/correlate/rows.js';
import type { ChainSummary } from '../../src/model/delegation.js';
import { VERIFIED, failed, type Verdict } from '../../src/model/verdict.js';
import { buildTaskTree } from '../../src/serve/tree.js';
import { signal, storeSignals } from '../support/alerts.js';

let store: TestStore;
let actions: BatchWriter<ActionRow>;
let queries: Queries;

before(async () => {
  store = await openTestStore();
  actions = new BatchWriter(store.writer, `${store.config.database}.actions`, { maxRows: 5000, maxDelayMs: 5 });
  queries = new Queries(store.reader, store.config.database);
});
after(async () => store.close());

const chain = (rootHuman: string, issuedMs: number, agent = 'spiffe://co.example/agent/inventory/i-1'): ChainSummary => ({
  rootHuman, rootIssuedAtMs: issuedMs, purpose: `purpose of ${rootHuman}`, depth: 1,
  path: [rootHuman, agent], delegator: rootHuman, grantedScopes: ['ec2:Describe*'], linkHashes: ['h'],
});
const expired = failed([{ code: 'time.expired', link: 0, message: 'expired' }]);
const revoked = failed([{ code: 'signature.invalid', link: 0, message: 'key revoked' }]);

/** Every page of a search, following cursors; fails on a cycle. */
async function allPages(f: TaskFilter, q: Queries = queries): Promise<TaskSummary[]> {
  const out: TaskSummary[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 10_000; page++) {
    const p = await q.listTasks({ ...f, cursor });
    out.push(...p.tasks);
    if (p.nextCursor === null) return out;
    cursor = p.nextCursor;
  }
  throw new Error('pagination does not end');
}

/** A seeded generator, so a failure can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

test("the demo's case: a replayed expired chain older than the verified one says nothing about the task", async () => {
  const task = 'task-demo-replay';
  const verifiedAt = Date.UTC(2026, 10, 29, 7, 53);
  const replayedAt = Date.UTC(2026, 10, 29, 4, 53);
  const now = Date.now();
  await actions.write([
    ...Array.from({ length: 5 }, () => toActionRow(makeSpan({ taskId: task }), VERIFIED, chain('alice@co.example', verifiedAt), 'c-ok', now)),
    ...Array.from({ length: 3 }, () => toActionRow(makeSpan({ taskId: task }), expired, chain('mallory@co.example', replayedAt), 'c-old', now)),
  ]);
  const [t] = (await queries.listTasks({ human: 'alice@co.example' })).tasks.filter((x) => x.task_id === task);
  assert.ok(t);
  assert.equal(Date.parse(t.requested_at), verifiedAt, 'requested_at is the verified chain\'s, not the replayed one\'s');
  assert.equal(t.root_human, 'alice@co.example');
  assert.equal(t.purpose, 'purpose of alice@co.example');
  assert.equal(t.actions, 8);
  assert.equal(t.failed, 3);
  const tree = buildTaskTree(task, await queries.taskActions(task));
  assert.equal(t.requested_at.slice(0, 23), tree.requestedAt.slice(0, 23), 'the list and the tree agree');
  // The failing case: with no verified chain, the task has no human and no request time.
  const lone = 'task-only-replayed';
  await actions.write([toActionRow(makeSpan({ taskId: lone }), expired, chain('mallory@co.example', replayedAt), 'c-old', now)]);
  const [l] = (await queries.listTasks({ human: 'mallory@co.example' })).tasks.filter((x) => x.task_id === lone);
  assert.ok(l, 'still found by the human its chain names');
  assert.equal(l.root_human, '');
  assert.equal(l.requested_at, '');
  assert.equal(l.failed, 1);
});

test('the summary equals the aggregate over actions on random data with re-deliveries and re-verdicts, before and after merges', async () => {
  const rand = rng(20261129);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const humans = ['ann@a.example', 'bo@b.example', 'cy@c.example'];
  const agents = ['spiffe://a.example/agent/x/1', 'spiffe://a.example/agent/y/2', 'spiffe://b.example/agent/z/3', 'legacy-agent'];
  const base = Date.UTC(2027, 0, 1);
  const ids: string[] = [];
  const written: ActionRow[] = [];
  for (let t = 0; t < 40; t++) {
    const task = `task-rand-${t}`;
    ids.push(task);
    const spans = Array.from({ length: 1 + Math.floor(rand() * 30) }, () =>
      makeSpan({ taskId: task, agentId: pick(agents), startMs: base + Math.floor(rand() * 1e6) }));
    for (const s of spans) {
      const c = chain(pick(humans), base - Math.floor(rand() * 1e7), s.agentId);
      // Each span judged 1–3 times at distinct times, each judgement possibly re-delivered.
      const judgements = 1 + Math.floor(rand() * 3);
      const times = Array.from({ length: judgements }, (_, i) => Date.now() + i * 1000 + Math.floor(rand() * 500));
      for (const at of times) {
        const v: Verdict = rand() < 0.3 ? pick([expired, revoked]) : VERIFIED;
        const row = toActionRow(s, v, c, v === VERIFIED ? 'ok' : 'bad', at);
        for (let copies = rand() < 0.2 ? 2 : 1; copies > 0; copies--) written.push(row);
      }
    }
  }
  // Written in random order and in several inserts, so neither arrival nor part order decides.
  written.sort(() => rand() - 0.5);
  for (let i = 0; i < written.length; i += 97) await actions.write(written.slice(i, i + 97));

  const check = async (when: string) => {
    const listed = new Map((await allPages({ fromMs: base - 1, toMs: base + 2e6, limit: 7 })).map((t) => [t.task_id, t]));
    assert.deepEqual([...listed.keys()].sort(), [...ids].sort(), `${when}: every task listed once`);
    for (const id of ids) {
      const rows = written.filter((r) => r.task_id === id);
      const newest = new Map<string, ActionRow>();
      for (const r of rows) {
        const k = r.span_id;
        if (!newest.has(k) || newest.get(k)!.received_at < r.received_at) newest.set(k, r);
      }
      const got = listed.get(id)!;
      const tree = buildTaskTree(id, await queries.taskActions(id));
      assert.equal(got.actions, newest.size, `${when} ${id}: distinct spans`);
      assert.equal(got.actions, tree.total, `${when} ${id}: as the tree counts`);
      assert.equal(got.failed, [...newest.values()].filter((r) => r.verdict === 'failed').length, `${when} ${id}: newest verdicts failed`);
      assert.equal(got.failed, tree.failed, `${when} ${id}: as the tree counts`);
      assert.equal(got.agents, new Set(rows.map((r) => r.agent_id)).size, `${when} ${id}: agents`);
      const everVerified = rows.filter((r) => r.verdict === 'verified');
      const origin = everVerified.sort((a, b) => a.root_issued_at - b.root_issued_at || (a.root_human < b.root_human ? -1 : 1))[0];
      assert.equal(got.root_human, origin?.root_human ?? '', `${when} ${id}: human of the earliest verified chain`);
      assert.equal(got.requested_at ? Date.parse(got.requested_at) : 0, origin?.root_issued_at ?? 0, `${when} ${id}: requested_at`);
      assert.equal(Date.parse(got.first_action), Math.min(...rows.map((r) => Number(BigInt(r.ts) / 1_000_000n))), `${when} ${id}: first action`);
      const tds = [...new Set(rows.map((r) => /^spiffe:\/\/([^/]+)/.exec(r.agent_id)?.[1] ?? ''))].sort();
      assert.deepEqual(got.trust_domains, tds, `${when} ${id}: trust domains`);
    }
  };
  await check('before merges');
  const db = store.config.database;
  await store.writer.command({ query: `OPTIMIZE TABLE ${db}.actions FINAL` });
  await store.writer.command({ query: `OPTIMIZE TABLE ${db}.task_summary FINAL` });
  await check('after merges');
});

test('the search indexes answer as the summary alone does: each filter, every page, before and after merges', async () => {
  // Random tasks written in small inserts, so most have several order-index rows, most of them stale.
  const rand = rng(7);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const humans = ['ix-ann@a.example', 'ix-bo@b.example'];
  const agents = ['spiffe://ix-a.example/agent/x/1', 'spiffe://ix-b.example/agent/y/2', 'ix-legacy'];
  const base = Date.UTC(2032, 0, 1);
  const rows: ActionRow[] = [];
  for (let t = 0; t < 90; t++) {
    for (let k = 1 + Math.floor(rand() * 6); k > 0; k--) {
      const startMs = base + Math.floor(rand() * 1e6);
      const span = makeSpan({ taskId: `task-ix-${t}`, agentId: pick(agents), startMs, startNs: `${startMs}000000` });
      // Some tasks never verify (sorted by first action); chains are issued before and after actions, so an
      // insert without the task's earliest verified chain may write an order row below the task's true position.
      const v = t % 7 === 0 || rand() < 0.3 ? expired : VERIFIED;
      rows.push(toActionRow(span, v, chain(pick(humans), base + Math.floor((rand() - 0.7) * 2e6), span.agentId), 'c', Date.now()));
    }
  }
  rows.sort(() => rand() - 0.5);
  for (let i = 0; i < rows.length; i += 13) await actions.write(rows.slice(i, i + 13));
  const summaryOnly = new Queries(store.reader, store.config.database, { taskSearch: 'summary' });
  // The indexes with a page's columns merged from the summary, as before task_page (migration 016).
  const wide = new Queries(store.reader, store.config.database, { taskSearch: 'index-wide' });
  // Windows of 2, 4, 8… rows: pages cross window bounds, and stale rows fall on both sides of them.
  const smallWindows = new Queries(store.reader, store.config.database, { firstWindow: 2 });
  const filters: TaskFilter[] = [
    {}, { verdict: 'verified' }, { verdict: 'failed' }, { human: 'ix-ann@a.example' }, { agent: 'spiffe://ix-b.example/agent/y/2' },
    { trustDomains: ['ix-a.example'] }, { human: 'ix-bo@b.example', verdict: 'failed', trustDomains: ['ix-b.example'] },
    { human: 'ix-ann@a.example', agent: 'ix-legacy' }, { fromMs: base + 5e5 },
  ];
  const check = async (when: string) => {
    for (const f of filters) {
      for (const limit of [5, 100]) {
        const viaIndex = await allPages({ ...f, limit });
        const viaSummary = await allPages({ ...f, limit }, summaryOnly);
        assert.deepEqual(viaIndex, viaSummary, `${when} ${JSON.stringify(f)} limit ${limit}`);
        assert.deepEqual(await allPages({ ...f, limit }, wide), viaSummary, `${when} ${JSON.stringify(f)} limit ${limit}: page columns from the summary`);
        if (limit === 5) assert.deepEqual(await allPages({ ...f, limit }, smallWindows), viaSummary, `${when} ${JSON.stringify(f)}: small windows`);
        const ids = viaIndex.map((t) => t.task_id);
        assert.equal(new Set(ids).size, ids.length, `${when} ${JSON.stringify(f)}: no task twice`);
      }
    }
    // And the walk is no tautology: it finds the random tasks, in the list's order.
    const all = (await allPages({ limit: 5 })).filter((t) => t.task_id.startsWith('task-ix-'));
    assert.equal(all.length, 90, `${when}: every task found`);
  };
  await check('before merges');
  const db = store.config.database;
  for (const table of ['task_order', 'task_keys', 'task_summary', 'task_page']) await store.writer.command({ query: `OPTIMIZE TABLE ${db}.${table} FINAL` });
  await check('after merges');
});

test('filters: human, agent, verdict (with a revoked and a reinstated span), time; each with a task it must leave out', async () => {
  const at = Date.UTC(2028, 5, 1);
  const t0 = Date.now();
  const span = (taskId: string, agentId = 'spiffe://f.example/agent/f/1', startMs = at) => makeSpan({ taskId, agentId, startMs, startNs: `${startMs}000000`, endNs: `${startMs + 5}000000` });
  const c = chain('filter-human@f.example', at - 1000);
  const rev = span('task-f-revoked');
  const rei = span('task-f-reinstated');
  await actions.write([
    toActionRow(span('task-f-clean', 'spiffe://f.example/agent/other/2'), VERIFIED, chain('other@f.example', at - 1000), 'c', t0),
    toActionRow(span('task-f-failed'), expired, c, 'c', t0),
    toActionRow(span('task-f-failed'), VERIFIED, c, 'c', t0),
    toActionRow(rev, VERIFIED, c, 'c', t0),
    toActionRow(rev, revoked, c, 'c', t0 + 5000),
    toActionRow(rei, revoked, c, 'c', t0),
    toActionRow(rei, VERIFIED, c, 'c', t0 + 5000),
    toActionRow(span('task-f-late', undefined, at + 86_400_000), VERIFIED, c, 'c', t0),
  ]);
  const ids = async (f: TaskFilter) => (await allPages({ fromMs: at - 1, toMs: at + 2 * 86_400_000, ...f })).map((t) => t.task_id).filter((id) => id.startsWith('task-f-')).sort();
  assert.deepEqual(await ids({ human: 'filter-human@f.example' }), ['task-f-failed', 'task-f-late', 'task-f-reinstated', 'task-f-revoked']);
  assert.deepEqual(await ids({ agent: 'spiffe://f.example/agent/other/2' }), ['task-f-clean']);
  assert.deepEqual(await ids({ verdict: 'failed' }), ['task-f-failed', 'task-f-revoked']);
  assert.deepEqual(await ids({ verdict: 'verified' }), ['task-f-clean', 'task-f-late', 'task-f-reinstated']);
  assert.deepEqual(await ids({ toMs: at + 1000 }), ['task-f-clean', 'task-f-failed', 'task-f-reinstated', 'task-f-revoked']);
  assert.deepEqual(await ids({ fromMs: at + 1000 }), ['task-f-late']);
  const byId = new Map((await allPages({ fromMs: at - 1, toMs: at + 2 * 86_400_000 })).map((t) => [t.task_id, t]));
  assert.equal(byId.get('task-f-reinstated')?.failed, 0, 'a span reinstated by a later verdict is not failed');
  assert.equal(byId.get('task-f-revoked')?.failed, 1, 'a span revoked by a later verdict is failed');
  assert.deepEqual((await queries.listTasks({ human: "x' OR '1'='1" })).tasks, []);
});

test('keyset pagination: every task once, in order, while other tasks are being written', async () => {
  const at = Date.UTC(2029, 0, 1);
  const range = { fromMs: at - 1, toMs: at + 1e9 };
  const existing: string[] = [];
  const rows: ActionRow[] = [];
  for (let i = 0; i < 120; i++) {
    const id = `task-page-${i}`;
    existing.push(id);
    // Ten tasks share each request time, so the task_id tie-break is exercised.
    const c = chain('pager@p.example', at + Math.floor(i / 10) * 1000);
    for (let k = 0; k < 3; k++) rows.push(toActionRow(makeSpan({ taskId: id, startMs: at + i, startNs: `${at + i}000000` }), VERIFIED, c, 'c', Date.now()));
  }
  await actions.write(rows);
  let writing = true;
  let extra = 0;
  const writer = (async () => {
    while (writing) {
      // New tasks both newer and older than the pages already read, and more actions on existing tasks.
      const n = extra++;
      const c = chain('pager@p.example', at + (n % 2 ? 20_000 + n : -5000 - n));
      await actions.write([
        toActionRow(makeSpan({ taskId: `task-page-new-${n}`, startMs: at + 500, startNs: `${at + 500}000000` }), VERIFIED, c, 'c', Date.now()),
        toActionRow(makeSpan({ taskId: existing[n % existing.length]!, startMs: at + 7, startNs: `${at + 7}000000` }), VERIFIED, chain('pager@p.example', at + Math.floor((n % existing.length) / 10) * 1000), 'c', Date.now()),
      ]);
    }
  })();
  const seen = await allPages({ ...range, human: 'pager@p.example', limit: 7 });
  writing = false;
  await writer;
  assert.ok(extra > 0, 'writes happened while paging');
  const ids = seen.map((t) => t.task_id);
  assert.equal(new Set(ids).size, ids.length, 'no task repeated');
  for (const id of existing) assert.ok(ids.includes(id), `${id} not skipped`);
  const key = (t: TaskSummary) => [Date.parse(t.requested_at), t.task_id] as const;
  for (let i = 1; i < seen.length; i++) {
    const [a, b] = [key(seen[i - 1]!), key(seen[i]!)];
    assert.ok(a[0] > b[0] || (a[0] === b[0] && a[1] < b[1]), `order at ${i}: requested_at DESC, task_id ASC`);
  }
});

test('a cursor that is not one is refused; a page size beyond the bound is cut', async () => {
  for (const bad of ['', 'v1', 'v1.1.', 'v2.1.dGFzaw', 'v1.1.dGFzaw==', 'v1.01.dGFzaw', "v1.1.x' OR 1=1", 'v1.99999999999999999.dGFzaw', 'v1.-0.dGFzaw']) {
    await assert.rejects(queries.listTasks({ cursor: bad }), InvalidCursor, JSON.stringify(bad));
  }
  const page = await queries.listTasks({ limit: 1_000_000 });
  assert.ok(page.tasks.length <= 1000);
});

test('trustDomains: a tenant sees its tasks and only its actions in them; [] sees nothing', async () => {
  const at = Date.UTC(2030, 6, 1);
  const range = { fromMs: at - 1, toMs: at + 1e6 };
  const span = (taskId: string, agentId: string) => makeSpan({ taskId, agentId, startMs: at, startNs: `${at}000000`, endNs: `${at + 5}000000` });
  const now = Date.now();
  await actions.write([
    toActionRow(span('task-td-shared', 'spiffe://red.example/agent/r/1'), VERIFIED, chain('td@x.example', at), 'c', now),
    toActionRow(span('task-td-shared', 'spiffe://red.example/agent/r/1'), VERIFIED, chain('td@x.example', at), 'c', now),
    toActionRow(span('task-td-shared', 'spiffe://blue.example/agent/b/1'), expired, chain('td@x.example', at), 'c', now),
    toActionRow(span('task-td-blue', 'spiffe://blue.example/agent/b/2'), VERIFIED, chain('td@x.example', at), 'c', now),
    toActionRow(span('task-td-unnamed', 'not-a-spiffe-id'), VERIFIED, chain('td@x.example', at), 'c', now),
  ]);
  const list = async (trustDomains?: string[]) => new Map((await allPages({ ...range, trustDomains })).map((t) => [t.task_id, t]));
  const red = await list(['red.example']);
  assert.deepEqual([...red.keys()], ['task-td-shared']);
  assert.equal(red.get('task-td-shared')?.actions, 2, "only the red tenant's actions count");
  assert.equal(red.get('task-td-shared')?.failed, 0);
  assert.deepEqual(red.get('task-td-shared')?.trust_domains, ['red.example']);
  const blue = await list(['blue.example']);
  assert.deepEqual([...blue.keys()].sort(), ['task-td-blue', 'task-td-shared']);
  assert.equal(blue.get('task-td-shared')?.failed, 1);
  assert.equal((await list(['blue.example']).then((m) => [...m.values()])).length, 2);
  assert.deepEqual([...(await list(['green.example'])).keys()], [], 'another tenant sees none of them');
  assert.deepEqual((await queries.listTasks({ ...range, trustDomains: [] })).tasks, [], '[] sees nothing');
  assert.deepEqual((await list(['blue.example', 'red.example'])).get('task-td-shared')?.actions, 3);
  assert.equal((await list()).size, 3, 'no restriction: all, the unnamed agent too');
  assert.equal((await queries.listTasks({ ...range, verdict: 'failed', trustDomains: ['red.example'] })).tasks.length, 0, "blue's failure is not red's");
});

test('migrations 004, 014 and 016 backfill actions written before them, and running them again, twice at once, changes nothing', async () => {
  const config = testStoreConfig();
  const client = openClient(config);
  const db = config.database;
  try {
    const catalog = await loadCatalog(DDL_DIR);
    const v004 = catalog.migrations.find((m) => m.name === '004_task_summary')!;
    const v014 = catalog.migrations.find((m) => m.name === '014_task_search_index')!;
    const v016 = catalog.migrations.find((m) => m.name === '016_task_page')!;
    await migrate(client, db, 'single', { ...catalog, migrations: catalog.migrations.filter((m) => m.version < 4) });
    const w = new BatchWriter<ActionRow>(client, `${db}.actions`, { maxRows: 1000, maxDelayMs: 5 });
    const at = Date.UTC(2031, 0, 1);
    const rows = Array.from({ length: 60 }, (_, i) =>
      toActionRow(makeSpan({ taskId: `task-old-${i % 6}` }), i % 10 === 0 ? expired : VERIFIED, chain('old@o.example', at + (i % 6)), 'c', Date.now()));
    await w.write(rows);
    await w.write(rows.slice(0, 20)); // re-delivered before the summary existed
    const report = await migrate(client, db);
    assert.deepEqual(report.applied.filter((n) => n >= '004'), catalog.migrations.filter((m) => m.version >= 4).map((m) => m.name));
    const q = new Queries(client, db);
    const before = await allPages({}, q);
    assert.equal(before.length, 6);
    assert.deepEqual(before.map((t) => t.actions), [10, 10, 10, 10, 10, 10]);
    assert.equal(before.reduce((n, t) => n + t.failed, 0), 6);
    // A second and a third applier, at once, as several processors starting together would.
    const run = async () => { for (const s of [...v004.single, ...v014.single, ...v016.single]) await client.command({ query: forDatabase(s, db) }); };
    await Promise.all([run(), run()]);
    await w.write([toActionRow(makeSpan({ taskId: 'task-old-0' }), VERIFIED, chain('old@o.example', at), 'c', Date.now())]);
    const afterRuns = await allPages({}, q);
    assert.deepEqual(afterRuns.map((t) => [t.task_id, t.actions - (t.task_id === 'task-old-0' ? 1 : 0), t.failed, t.requested_at]),
      before.map((t) => [t.task_id, t.actions, t.failed, t.requested_at]));
  } finally {
    await client.command({ query: `DROP DATABASE IF EXISTS ${db}` }).catch(() => undefined);
    await client.close();
  }
});

test('the alert filter: tasks an alert was raised on (any kind, or one kind), within the caller\'s tenants, on the walk and with a time range', async () => {
  const at = Date.UTC(2028, 7, 1);
  const t0 = Date.now();
  const span = (taskId: string, agentId: string) => makeSpan({ taskId, agentId, startMs: at, startNs: `${at}000000`, endNs: `${at + 5}000000` });
  const a = 'spiffe://al.example/agent/a/1';
  const b = 'spiffe://bl.example/agent/b/1';
  await actions.write([
    toActionRow(span('task-al-policy', a), VERIFIED, chain('al@al.example', at - 1000, a), 'c', t0),
    toActionRow(span('task-al-edge', a), VERIFIED, chain('al@al.example', at - 1000, a), 'c', t0),
    toActionRow(span('task-al-quiet', a), VERIFIED, chain('al@al.example', at - 1000, a), 'c', t0),
    toActionRow(span('task-bl-policy', b), VERIFIED, chain('bl@bl.example', at - 1000, b), 'c', t0),
  ]);
  await storeSignals(store.writer, store.config.database, [
    signal({ tenant: 'al.example', taskId: 'task-al-policy', subject: 'rule r by a in task-al-policy', agents: [a] }),
    signal({ kind: 'delegation.new_edge', tenant: 'al.example', taskId: 'task-al-edge', subject: 'x -> a', agents: [a] }),
    signal({ tenant: 'bl.example', taskId: 'task-bl-policy', subject: 'rule r by b in task-bl-policy', agents: [b] }),
    // An alert about no task in particular names none.
    signal({ kind: 'scope.over_provisioned', tenant: 'al.example', taskId: '', subject: a, agents: [a] }),
  ]);
  const ids = async (f: TaskFilter) => (await allPages(f)).map((t) => t.task_id).filter((id) => /^task-[ab]l-/.test(id)).sort();
  assert.deepEqual(await ids({ alert: 'any' }), ['task-al-edge', 'task-al-policy', 'task-bl-policy']);
  assert.deepEqual(await ids({ alert: 'policy.violation' }), ['task-al-policy', 'task-bl-policy']);
  assert.deepEqual(await ids({ alert: 'delegation.new_edge', fromMs: at - 1, toMs: at + 1000 }), ['task-al-edge']);
  assert.deepEqual(await ids({ alert: 'any', trustDomains: ['al.example'] }), ['task-al-edge', 'task-al-policy']);
  assert.deepEqual(await ids({ alert: 'any', trustDomains: ['bl.example'] }), ['task-bl-policy']);
  assert.deepEqual(await ids({ alert: 'integrity.link_reuse' }), []);
  // The summary-only path (the benchmark's baseline) answers the same.
  const summaryOnly = new Queries(store.reader, store.config.database, { taskSearch: 'summary' });
  assert.deepEqual((await allPages({ alert: 'any' }, summaryOnly)).map((t) => t.task_id).filter((id) => /^task-[ab]l-/.test(id)).sort(), ['task-al-edge', 'task-al-policy', 'task-bl-policy']);
});
