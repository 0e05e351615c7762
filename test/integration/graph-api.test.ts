/**
 * The console's graph routes over chdb, on the two-tenant fixtures plus one
 * task written here with a link that failed verification and an agent that
 * acted on another agent's chain: what the graph marks, which tasks an edge
 * lists, an agent's granted against used scopes, and an action's chain.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApiHarness, type ApiHarness } from '../support/api-harness.js';
import { makeSpan } from '../support/spans.js';
import { CO, PARTNER, PLANNER, INVENTORY, BILLING, TASK_CO, TASK_SHARED, SHARED_PLANNER_SPAN } from '../support/api-fixtures.js';
import { BatchWriter } from '../../src/store/writer.js';
import { toActionRow, toDelegationRows } from '../../src/correlate/correlate.js';
import type { ActionRow, DelegationRow } from '../../src/correlate/rows.js';
import { VERIFIED, failed } from '../../src/model/verdict.js';
import { signal, storeSignals } from '../support/alerts.js';

const COST = `spiffe://${CO}/agent/cost/c-9`;
const REPORT = `spiffe://${CO}/agent/report/r-9`;
const TASK_GRAPH = 'task-graph';
const T0 = Date.UTC(2026, 2, 28, 9, 0, 0);

let h: ApiHarness;
let admin = '';
before(async () => {
  h = await startApiHarness();
  admin = await h.token(['*'], 'admin');
  const db = h.store.config.database;
  const links = new BatchWriter<DelegationRow>(h.store.writer, `${db}.delegations`, { maxRows: 100, maxDelayMs: 5 });
  const link = (hash: string, iss: string, sub: string, scope: string[]) =>
    ({ hash, kid: 'k', alg: 'EdDSA', trustDomain: CO, claims: { iss, sub, scope, iat: T0 / 1000, nbf: T0 / 1000, exp: T0 / 1000 + 600, jti: `j-${hash}`, task: TASK_GRAPH, purpose: 'p' } });
  // The report link's signature failed: a structural reason points at link 1.
  await links.write(toDelegationRows({
    reasons: [{ code: 'signature.invalid', link: 1, message: 'bad signature' }],
    links: [link('G-0', 'carol@co.example', PLANNER, ['s3:*']), link('G-1', PLANNER, REPORT, ['s3:GetObject'])],
  }, Date.now()));
  await links.close();
  const actions = new BatchWriter<ActionRow>(h.store.writer, `${h.store.config.database}.actions`, { maxRows: 100, maxDelayMs: 5 });
  const summary = (path: string[], granted: string[]) => ({
    rootHuman: 'carol@co.example', rootIssuedAtMs: T0, purpose: 'p', depth: path.length - 1, path, delegator: path[path.length - 2]!,
    grantedScopes: granted, linkHashes: [],
  });
  await actions.write([
    // The cost agent presents the inventory agent's chain: an edge inventory → cost that no link grants.
    toActionRow(makeSpan({ taskId: TASK_GRAPH, agentId: COST, startMs: T0 + 60_000, scopesUsed: ['ec2:DescribeInstances'] }),
      failed([{ code: 'agent.mismatch', message: 'not the delegatee' }]), summary(['carol@co.example', PLANNER, INVENTORY], ['ec2:Describe*']), 'chain-stolen', Date.now()),
    // The report agent, twice in one hour and once in the next: scopes used and unused per bucket.
    ...[0, 10, 70].map((min, i) => toActionRow(
      makeSpan({ taskId: TASK_GRAPH, agentId: REPORT, startMs: T0 + min * 60_000, scopesUsed: i === 0 ? ['s3:GetObject'] : ['s3:PutObject'] }),
      i === 0 ? VERIFIED : failed([{ code: 'scope.exceeded', message: 's3:PutObject not granted' }]),
      summary(['carol@co.example', PLANNER, REPORT], ['s3:GetObject', 's3:ListBucket']), 'chain-report', Date.now())),
  ]);
  await actions.close();
});
after(async () => h.close());

type Edge = { from: string; to: string; links: number; invalidLinks: number; actions: number; failedActions: number; tasks: number; invalid: boolean; unexpected: boolean; marks: string[] };

async function graph(bearer: string, query = ''): Promise<{ nodes: Array<{ id: string; kind: string; actions: number }>; edges: Edge[] }> {
  const res = await h.get(`/api/graph${query}`, bearer);
  assert.equal(res.status, 200);
  return res.body;
}
const edgeOf = (g: { edges: Edge[] }, from: string, to: string) => g.edges.find((e) => e.from === from && e.to === to);

test('the graph joins links and actions per edge: a granted edge is neither invalid nor unexpected', async () => {
  const g = await graph(admin);
  const e = edgeOf(g, PLANNER, INVENTORY)!;
  assert.equal(e.links, 1);
  assert.equal(e.actions, 5, "task-co's five inventory actions");
  assert.equal(e.invalid, false);
  assert.equal(e.unexpected, false);
  assert.deepEqual(e.marks, []);
  // The human who granted it is a node of its own kind.
  assert.equal(g.nodes.find((n) => n.id === 'alice@co.example')?.kind, 'human');
  assert.equal(g.nodes.find((n) => n.id === INVENTORY)?.kind, 'agent');
});

test('an edge whose link failed verification is invalid; an agent acting on another agent\'s chain draws an unexpected edge', async () => {
  const g = await graph(admin);
  const bad = edgeOf(g, PLANNER, REPORT)!;
  assert.equal(bad.invalid, true);
  assert.equal(bad.invalidLinks, 1);
  assert.equal(bad.failedActions, 2);
  assert.deepEqual(bad.marks, ['link.invalid', 'action.flagged']);
  const stolen = edgeOf(g, INVENTORY, COST)!;
  assert.equal(stolen.unexpected, true);
  assert.equal(stolen.links, 0);
  assert.equal(stolen.actions, 1);
  assert.ok(stolen.marks.includes('edge.unexpected'));
  // The link that is sound is not marked for its chain's later failure.
  assert.equal(edgeOf(g, 'carol@co.example', PLANNER)!.invalid, false);
});

test('a first-seen-edge alert of the caller\'s tenant marks its edge; another tenant\'s alert does not', async () => {
  const db = h.store.config.database;
  await storeSignals(h.store.writer, db, [
    signal({ kind: 'delegation.new_edge', tenant: CO, subject: `${PLANNER} -> ${INVENTORY}`, eventKey: 'e1', observedAtMs: Date.UTC(2026, 2, 27, 14, 0, 2) }),
    signal({ kind: 'delegation.new_edge', tenant: PARTNER, subject: `carol@co.example -> ${PLANNER}`, eventKey: 'e2', observedAtMs: Date.UTC(2026, 2, 28, 9, 0, 0) }),
  ]);
  const co = await graph(await h.token([CO]));
  assert.deepEqual(edgeOf(co, PLANNER, INVENTORY)!.marks, ['edge.new']);
  assert.equal(edgeOf(co, PLANNER, INVENTORY)!.unexpected, true);
  assert.ok(!edgeOf(co, 'carol@co.example', PLANNER)!.marks.includes('edge.new'), "the partner's alert is not co.example's");
  assert.ok(edgeOf(await graph(admin), 'carol@co.example', PLANNER)!.marks.includes('edge.new'), 'an admin of every tenant sees both');
});

test('an edge lists the tasks that used it, by link or by action, paged without loss', async () => {
  const path = `/api/graph/edges/${encodeURIComponent(PLANNER)}/${encodeURIComponent(INVENTORY)}/tasks`;
  const all = await h.get(path, admin);
  assert.equal(all.status, 200);
  assert.deepEqual(all.body.tasks.map((t: { task_id: string }) => t.task_id), [TASK_CO, TASK_SHARED]);
  const co = all.body.tasks.find((t: { task_id: string }) => t.task_id === TASK_CO);
  assert.deepEqual({ ...co }, { task_id: TASK_CO, links: 0, invalid: 0, actions: 5, failed: 0 });
  const first = await h.get(`${path}?limit=1`, admin);
  assert.equal(first.body.tasks.length, 1);
  const second = await h.get(`${path}?limit=1&cursor=${encodeURIComponent(first.body.nextCursor)}`, admin);
  assert.deepEqual(second.body.tasks.map((t: { task_id: string }) => t.task_id), [TASK_SHARED]);
  assert.equal(second.body.nextCursor, null);
  const unexpected = await h.get(`/api/graph/edges/${encodeURIComponent(INVENTORY)}/${encodeURIComponent(COST)}/tasks`, admin);
  assert.deepEqual(unexpected.body.tasks.map((t: { task_id: string; failed: number }) => [t.task_id, t.failed]), [[TASK_GRAPH, 1]]);
});

test('each tenant sees only its trust domains\' edges', async () => {
  const partner = await graph(await h.token([PARTNER]));
  assert.ok(partner.edges.length > 0);
  for (const e of partner.edges) assert.equal(e.to, BILLING, `${e.from} → ${e.to}`);
  const co = await graph(await h.token([CO]));
  assert.equal(edgeOf(co, PLANNER, BILLING), undefined, "the partner's link and actions are not co.example's");
});

test('a time range keeps the actions in it and the links in force during it', async () => {
  const g = await graph(admin, `?from=${T0 + 30 * 60_000}&to=${T0 + 120 * 60_000}`);
  assert.equal(edgeOf(g, PLANNER, REPORT)?.actions, 1, 'only the action at minute 70');
  assert.equal(edgeOf(g, PLANNER, INVENTORY), undefined, "task-co's actions and links are a day earlier");
});

test("an agent's scopes per bucket: granted, used, unused, and used without a grant", async () => {
  const res = await h.get(`/api/agents/${encodeURIComponent(REPORT)}/scopes?bucket=3600`, admin);
  assert.equal(res.status, 200);
  const [first, second] = res.body.buckets;
  assert.equal(res.body.buckets.length, 2);
  assert.deepEqual(first.granted, ['s3:GetObject', 's3:ListBucket']);
  assert.deepEqual(first.used, [{ scope: 's3:GetObject', uses: 1, covered: true }, { scope: 's3:PutObject', uses: 1, covered: false }]);
  assert.deepEqual(first.unused, ['s3:ListBucket']);
  assert.deepEqual(first.ungranted, ['s3:PutObject']);
  assert.equal(first.actions, 2);
  assert.equal(first.failed, 1);
  assert.deepEqual(second.used, [{ scope: 's3:PutObject', uses: 1, covered: false }]);
  const paged = await h.get(`/api/agents/${encodeURIComponent(REPORT)}/scopes?bucket=3600&limit=1`, admin);
  const rest = await h.get(`/api/agents/${encodeURIComponent(REPORT)}/scopes?bucket=3600&limit=1&cursor=${encodeURIComponent(paged.body.nextCursor)}`, admin);
  assert.deepEqual([...paged.body.buckets, ...rest.body.buckets], res.body.buckets);
  assert.equal(rest.body.nextCursor, null);
  // Another tenant sees no bucket of this agent.
  const outsider = await h.get(`/api/agents/${encodeURIComponent(REPORT)}/scopes`, await h.token([PARTNER]));
  assert.deepEqual(outsider.body.buckets, []);
});

test("an action's chain lists each link with issuer, scope, expiry and status", async () => {
  const res = await h.get(`/api/tasks/${TASK_SHARED}/actions/${SHARED_PLANNER_SPAN}/chain`, admin);
  assert.equal(res.status, 200);
  assert.equal(res.body.verdict, 'verified');
  assert.equal(res.body.links.length, 1);
  const [root] = res.body.links;
  assert.equal(root.issuer, 'alice@co.example');
  assert.equal(root.issuerKind, 'human');
  assert.equal(root.subject, PLANNER);
  assert.deepEqual(root.scopes, ['ec2:Describe*']);
  assert.equal(root.status, 'verified');
  assert.match(root.expiresAt, /^2027-01-15.08:10/);
  assert.equal(root.expiredAtAction, false, 'the link was issued after the action, so it had not expired then');
  const hostile = await h.get(`/api/tasks/${TASK_SHARED}/actions/${encodeURIComponent("x' OR 1=1 --")}/chain`, admin);
  assert.equal(hostile.status, 404);
});
