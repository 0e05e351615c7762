/**
 * Blast radius on the demo's data: the quarterly review run in-process, then
 * every chain and action under the planning agent's link, the planning agent,
 * a leaf agent and Alice, across tasks, per agent and scope.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import { runDemo } from '../../src/demo/run.js';
import { AGENTS, BAD_ACTIONS, HUMAN } from '../../src/demo/scenario.js';
import { openClient } from '../../src/store/client.js';
import { BlastRadiusQueries } from '../../src/revoke/blast-radius.js';
import { renderBlastRadius } from '../../src/cli/revoke-commands.js';
import type { ClickHouseClient } from '@clickhouse/client';

let dir: string;
let client: ClickHouseClient;
let blast: BlastRadiusQueries;
let db: string;
const planning = AGENTS.find((a) => a.key === 'planning')!;
const security = AGENTS.find((a) => a.key === 'security')!;
const TOTAL = AGENTS.reduce((n, a) => n + a.actions, 0) + BAD_ACTIONS.length;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chainsight-blast-'));
  assert.equal(await runDemo({ dataDir: dir, listActions: false, out: () => undefined, followUp: false }), true);
  const config = loadConfig(process.env, { data: dir });
  db = config.store.database;
  client = openClient(config.store);
  blast = new BlastRadiusQueries(client, db);
});

after(async () => {
  await client.close();
  rmSync(dir, { recursive: true, force: true });
});

async function one<T>(query: string, query_params: Record<string, unknown>): Promise<T> {
  const rs = await client.query({ query, query_params, format: 'JSONEachRow' });
  return (await rs.json<T>())[0]!;
}

test("the planning agent's root link: every chain below it and every action under them, per agent and scope", async () => {
  // Alice's grant to the planner in this run (the replayed delegation is last quarter's, another link).
  const { link_hash: root, jti } = await one<{ link_hash: string; jti: string }>(
    `SELECT link_hash, jti FROM ${db}.delegations WHERE delegatee = {p:String} AND depth = 1 ORDER BY expires_at DESC LIMIT 1`, { p: planning.spiffeId });
  const b = await blast.of('link', root);
  assert.deepEqual(b.links, [root]);
  // Cross-checked against the chains stored as not holding it.
  const outside = await one<{ n: string }>(
    `SELECT count() AS n FROM (SELECT chain_hash FROM ${db}.actions ORDER BY received_at DESC LIMIT 1 BY task_id, trace_id, span_id)
     WHERE chain_hash NOT IN (SELECT chain_hash FROM ${db}.chain_links WHERE has(link_hashes, {l:String}))`, { l: root });
  assert.equal(b.actions.total, TOTAL - Number(outside.n));
  assert.equal(b.actions.total, TOTAL - 1, "all but the replay of last quarter's delegation, another grant");
  assert.equal(b.tasks.length, 1);
  // Every sub-agent's chain derives from it: five agents, four delegated links below.
  assert.deepEqual(new Set(b.byAgent.map((a) => a.agent)).size, 5);
  assert.ok(b.derivedLinks.length >= 4 && !b.derivedLinks.includes(root));
  const sec = b.byAgent.find((a) => a.agent === security.spiffeId)!;
  assert.equal(sec.actions, security.actions + 1, 'its legitimate actions and its scope breach');
  assert.equal(sec.failed, 1);
  assert.ok(sec.scopes.some((s) => s.scope === 'iam:CreateAccessKey' && s.actions === 1));
  assert.equal(b.byScope.find((s) => s.scope === 'vulndb:query')!.actions, sec.scopes.find((s) => s.scope === 'vulndb:query')!.actions);
  // By jti: the same answer.
  assert.equal((await blast.of('link', jti)).actions.total, b.actions.total);
  assert.match(renderBlastRadius(b), new RegExp(`actions: ${b.actions.total} \\(verified ${b.actions.verified}, flagged ${b.actions.failed}\\)`));
});

test('the human: every action of every chain rooted at Alice, across tasks', async () => {
  const b = await blast.of('human', HUMAN);
  assert.equal(b.actions.total, TOTAL, 'every action of the demo, the replayed chain included (also Alice\'s)');
  assert.equal(b.actions.verified, AGENTS.reduce((n, a) => n + a.actions, 0));
  const byAlice = await one<{ n: string }>(
    `SELECT count() AS n FROM (SELECT root_human FROM ${db}.actions ORDER BY received_at DESC LIMIT 1 BY task_id, trace_id, span_id) WHERE root_human = {h:String}`, { h: HUMAN });
  assert.equal(b.actions.total, Number(byAlice.n));
  assert.equal(b.byAgent.reduce((n, a) => n + a.actions, 0), b.actions.total);
});

test('a leaf agent: only the chains it appears in', async () => {
  const b = await blast.of('agent', security.spiffeId);
  assert.equal(b.actions.total, security.actions + 1);
  assert.deepEqual(b.byAgent.map((a) => a.agent), [security.spiffeId]);
});

test('an unknown subject has an empty radius, and hostile ids stay parameters', async () => {
  for (const id of ['nobody', "x' OR 1=1 --", '{l:String}']) {
    for (const kind of ['link', 'agent', 'human'] as const) {
      const b = await blast.of(kind, id);
      assert.equal(b.actions.total, 0, `${kind} ${id}`);
      assert.deepEqual(b.chains, []);
    }
  }
});
