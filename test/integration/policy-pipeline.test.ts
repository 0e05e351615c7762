/**
 * The policy stage inside the real pipeline: spans through the real receiver
 * into chdb, judged by the policy file in force. The file is changed while
 * spans flow; the next spans are judged by the new policy, every decision is
 * in the decision log under its revision, a bad edit keeps the last good
 * policy, and no span is lost.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/runtime/logger.js';
import { startServer, type RunningServer } from '../../src/runtime/server.js';
import { agentSpanAttributes } from '../../src/sdk/telemetry.js';
import type { ActionView } from '../../src/store/queries.js';
import { makeTrustDomain, standardChain, TASK, type TestDomain } from '../support/keys.js';
import { recordSpans, serializeSpans } from '../support/otel.js';
import { assertDocumented } from '../support/openapi-validate.js';
import { rulesFor } from '../support/rules-yaml.js';

const rules = (writeMaxSec: number) => `${rulesFor(`write-${writeMaxSec}`)}scopes:
  id: scope.diminishment
  wildcards:
    id: scope.wildcard
    allowed: true
lifetime:
  - id: lifetime.write
    scopes: [reports:write]
    fromDepth: 2
    maxSec: ${writeMaxSec}
`;

let root: string;
let rulesFile: string;
let server: RunningServer;
let domain: TestDomain;
let chain: string[];

async function writeRules(text: string): Promise<void> {
  await writeFile(rulesFile + '.tmp', text);
  await rename(rulesFile + '.tmp', rulesFile);
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'chainsight-policy-e2e-'));
  rulesFile = join(root, 'rules.yaml');
  await writeRules(rules(7200));
  domain = await makeTrustDomain();
  chain = await standardChain(domain);
  const config = loadConfig({ ...process.env, CLICKHOUSE_URL: process.env.CLICKHOUSE_URL ?? '' }, { data: join(root, 'data'), trustDir: domain.dir, rules: rulesFile, otlpPort: 0, apiPort: 0 });
  if (process.env.CLICKHOUSE_URL) config.store.database = `policy_e2e_${process.pid}`;
  server = await startServer(config, createLogger('silent'));
});

after(async () => {
  await server?.stop();
  await domain?.cleanup();
  await rm(root, { recursive: true, force: true });
});

async function storedActions(): Promise<ActionView[]> {
  const res = await fetch(`${server.apiUrl}/api/tasks/${TASK}/actions`);
  if (res.status === 404) return [];
  return ((await res.json()) as { actions: ActionView[] }).actions;
}

interface DecisionRow {
  span_id: string;
  revision: string;
  policy_version: string;
  result: string;
  rules: string[];
  reason_codes: string[];
  link_hashes: string[];
  input: string;
}

async function decisions(): Promise<DecisionRow[]> {
  const p = server.pipeline;
  const rs = await p.readerClient.query({ query: `SELECT span_id, revision, policy_version, result, rules, reason_codes, link_hashes, input FROM ${p.database}.policy_decisions FINAL`, format: 'JSONEachRow' });
  return rs.json<DecisionRow>();
}

async function metric(prefix: string): Promise<string[]> {
  const text = await (await fetch(`${server.apiUrl}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(prefix));
}

test('a policy changed while spans flow judges the next spans; every decision is logged under its revision; a bad edit keeps the last good policy', async () => {
  const sent = new Map<string, { phase: string; batch: number }>();
  let phase = 'lenient';
  let batch = 0;
  let stop = false;
  const sender = (async () => {
    while (!stop) {
      const b = batch++;
      const p = phase;
      const spans = await recordSpans({ 'service.name': 'scanner' }, (tracer) => {
        for (let i = 0; i < 4; i++) {
          const name = `execute_tool b${b}-${i}`;
          sent.set(name, { phase: p, batch: b });
          tracer.startSpan(name, { attributes: agentSpanAttributes({ chain, taskId: TASK, agentId: domain.id('scanner'), agentName: 'scanner', operation: 'execute_tool', toolName: 'describe', scopesUsed: ['cloud:read'] }) }).end();
        }
      });
      const res = await fetch(`${server.otlpUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: serializeSpans(spans, 'protobuf') });
      assert.equal(res.status, 200);
    }
  })();
  const until = async (p: string, pred: (a: ActionView) => boolean): Promise<void> => {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if ((await storedActions()).some((a) => sent.get(a.name)?.phase === p && pred(a))) return;
      await new Promise((r) => setTimeout(r, 150));
    }
    throw new Error(`no span of phase ${p} reached the expected verdict`);
  };
  try {
    await until('lenient', (a) => a.verdict === 'verified');
    phase = 'strict';
    await writeRules(rules(1800));
    await until('strict', (a) => a.reasons.includes('policy.lifetime.write'));
    phase = 'broken';
    await writeRules('version: "broken"\nlifetime:\n  - id: lifetime.write\n    maxSec: -3\n');
    // Wait for the rejection to be seen, then for spans sent after it.
    const deadline = Date.now() + 10_000;
    while ((await metric('chainsight_policy_reloads_total{result="rejected"}')).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    phase = 'after-broken';
    await until('after-broken', () => true);
  } finally {
    stop = true;
    await sender;
  }

  const actions = await storedActions();
  assert.equal(actions.length, sent.size, 'every span sent is stored, once');
  const byPhase = (p: string) => actions.filter((a) => sent.get(a.name)?.phase === p).sort((x, y) => sent.get(x.name)!.batch - sent.get(y.name)!.batch);
  const lenient = byPhase('lenient');
  assert.ok(lenient.length > 0 && lenient.every((a) => a.verdict === 'verified'), 'under the lenient policy every span verifies');
  const strict = byPhase('strict');
  const first = strict.findIndex((a) => a.reasons.includes('policy.lifetime.write'));
  assert.ok(first >= 0);
  assert.ok(strict.slice(first).every((a) => a.verdict === 'failed' && a.reasons.join() === 'policy.lifetime.write'), 'after the reload: denied by the rule, and stays so');
  const after = [...byPhase('broken'), ...byPhase('after-broken')];
  assert.ok(after.length > 0 && after.every((a) => a.reasons.join() === 'policy.lifetime.write'), 'a rejected edit keeps the strict policy in force');

  // The decision log: one decision per span, under the revision in force, with the rules that applied.
  const log = await decisions();
  assert.equal(log.length, actions.length);
  const bySpan = new Map(log.map((d) => [d.span_id, d]));
  const revisionOf = (a: ActionView) => bySpan.get(a.span_id)!.revision;
  const lenientRev = revisionOf(lenient[0]!);
  const strictRev = revisionOf(strict[strict.length - 1]!);
  assert.notEqual(lenientRev, strictRev);
  for (const a of actions) {
    const d = bySpan.get(a.span_id)!;
    assert.equal(d.result === 'deny', a.verdict === 'failed', `decision and verdict agree for ${a.name}`);
    assert.ok(d.rules.includes('lifetime.write'), 'the rule that applied is named, allowed or not');
    assert.equal(d.link_hashes.length, 3);
    assert.ok(!d.input.includes(chain[0]!.slice(0, 40)), 'the logged input carries token hashes, never tokens');
  }
  assert.ok(after.every((a) => revisionOf(a) === strictRev), 'after a rejected edit, decisions carry the kept revision');
  assert.deepEqual(new Set(log.map((d) => d.policy_version)), new Set(['write-7200', 'write-1800']));

  // Through the API: under which rules one action was allowed, why another was denied, and the OPA export.
  const answer = async (path: string) => {
    const res = await fetch(server.apiUrl + path);
    const body = await res.text();
    const template = path.split('?')[0]!.replace(/\/tasks\/[^/]+/, '/tasks/{taskId}').replace(/\/actions\/[^/]+\/decision$/, '/actions/{spanId}/decision');
    assertDocumented(template, { status: res.status, headers: res.headers, body: JSON.parse(body) });
    return { status: res.status, body: JSON.parse(body) };
  };
  const allowed = await answer(`/api/tasks/${TASK}/actions/${lenient[0]!.span_id}/decision`);
  assert.equal(allowed.status, 200);
  assert.equal(allowed.body.decision.result, 'allow');
  assert.ok(allowed.body.decision.rules.includes('lifetime.write'), 'the rule it was allowed under is named');
  const denied = await answer(`/api/tasks/${TASK}/actions/${strict[strict.length - 1]!.span_id}/decision`);
  assert.equal(denied.body.decision.result, 'deny');
  assert.deepEqual(denied.body.decision.reasons.map((r: { code: string }) => r.code), ['policy.lifetime.write']);
  assert.equal(denied.body.decision.revision, strictRev);
  const opa = await answer(`/api/tasks/${TASK}/actions/${strict[strict.length - 1]!.span_id}/decision?format=opa`);
  assert.equal(opa.body.event.path, 'chainsight/policy/decision');
  assert.equal(opa.body.event.bundles.chainsight.revision, strictRev);
  assert.equal(opa.body.event.result.result, 'deny');
  assert.equal(opa.body.event.input.action.agent, domain.id('scanner'));
  assert.equal((await answer(`/api/tasks/${TASK}/actions/ffffffffffffffff/decision`)).status, 404);
  // The task's decisions, paged: every action once.
  const seen = new Set<string>();
  let cursor: string | null = null;
  do {
    const page = await answer(`/api/tasks/${TASK}/decisions?limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    for (const d of page.body.decisions as Array<{ span_id: string }>) {
      assert.ok(!seen.has(d.span_id), 'no decision twice across pages');
      seen.add(d.span_id);
    }
    cursor = page.body.nextCursor;
  } while (cursor !== null);
  assert.equal(seen.size, actions.length);
});
