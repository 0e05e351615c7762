/**
 * What-if on real data: spans through the real receiver and pipeline into
 * chdb, judged by the policy in force; then the stored decisions replayed
 * against a stricter and a looser draft, through `whatIfReport` (what an API
 * route mounts) and through `chainsight policy what-if` on the same store.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../src/config/config.js';
import { parsePolicy } from '../../src/policy/loader.js';
import { whatIfReport, WhatIfRangeError, type StoreWhatIfReport } from '../../src/policy/what-if-store.js';
import { createLogger } from '../../src/runtime/logger.js';
import { startServer, type RunningServer } from '../../src/runtime/server.js';
import { agentSpanAttributes } from '../../src/sdk/telemetry.js';
import { makeTrustDomain, standardChain, TASK, type TestDomain } from '../support/keys.js';
import { recordSpans, serializeSpans } from '../support/otel.js';
import { CLI, ensureBuilt } from '../support/cli.js';
import { rulesFor } from '../support/rules-yaml.js';

const run = promisify(execFile);

/**
 * The policy in force denies links at depth ≥ 3 living over 1,000 s: the
 * scanner's spans (3 links, the last living 1,800 s) are denied by
 * `lifetime.deep`, the inventory's (2 links) allowed.
 */
const policy = (extra: { deepMaxSec?: number; depthMax?: number; agentsMaxSec?: number } = {}) => `${rulesFor(`what-if-${JSON.stringify(extra).replace(/\W/g, '')}`, extra)}lifetime:
  - id: lifetime.deep
    fromDepth: 3
    maxSec: ${extra.deepMaxSec ?? 1000}
${extra.agentsMaxSec ? `  - id: lifetime.agents\n    fromDepth: 2\n    maxSec: ${extra.agentsMaxSec}\n` : ''}`;

/** Stricter: agent-to-agent links within 3,000 s (the inventory's lives 3,600 s), depth 2 at most. */
const STRICT = policy({ agentsMaxSec: 3000, depthMax: 2 });
/** Looser: deep links may live 2,000 s. */
const LOOSE = policy({ deepMaxSec: 2000 });

let root: string;
let dataDir: string;
let server: RunningServer | undefined;
let domain: TestDomain;
let firstMs: number;
let lastMs: number;

async function send(chain: string[], agent: string, n: number, prefix: string): Promise<void> {
  const spans = await recordSpans({ 'service.name': agent }, (tracer) => {
    for (let i = 0; i < n; i++) {
      tracer.startSpan(`execute_tool ${prefix}-${i}`, { attributes: agentSpanAttributes({ chain, taskId: TASK, agentId: domain.id(agent), agentName: agent, operation: 'execute_tool', toolName: 'describe', scopesUsed: ['cloud:read'] }) }).end();
    }
  });
  const res = await fetch(`${server!.otlpUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: serializeSpans(spans, 'protobuf') });
  assert.equal(res.status, 200);
}

before(async () => {
  ensureBuilt();
  root = await mkdtemp(join(tmpdir(), 'chainsight-what-if-'));
  dataDir = join(root, 'data');
  await writeFile(join(root, 'rules.yaml'), policy());
  await writeFile(join(root, 'strict.yaml'), STRICT);
  await writeFile(join(root, 'loose.yaml'), LOOSE);
  domain = await makeTrustDomain();
  const config = loadConfig({ ...process.env, CLICKHOUSE_URL: '' }, { data: dataDir, trustDir: domain.dir, rules: join(root, 'rules.yaml'), otlpPort: 0, apiPort: 0 });
  server = await startServer(config, createLogger('silent'));
  firstMs = Date.now() - 1000;
  await send(await standardChain(domain), 'scanner', 6, 'deep');
  await send(await standardChain(domain, { depth: 2 }), 'inventory', 4, 'shallow');
  // No chain: verification fails the spans and no policy stage judges them.
  await send([], 'scanner', 2, 'bare');
  lastMs = Date.now() + 1000;
  const p = server.pipeline;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const rs = await p.readerClient.query({ query: `SELECT count() AS n FROM ${p.database}.actions`, format: 'JSONEachRow' });
    if (Number((await rs.json<{ n: string }>())[0]!.n) >= 12 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
});

after(async () => {
  await server?.stop();
  await domain?.cleanup();
  await rm(root, { recursive: true, force: true });
});

const counts = (r: StoreWhatIfReport, part: 'newlyDenied' | 'newlyAllowed') => Object.fromEntries(r[part].map((c) => [c.rule, c.count]));

test('a stricter draft: exactly which stored spans it would newly deny, by rule', async () => {
  const p = server!.pipeline;
  const r = await whatIfReport(p.readerClient, p.database, parsePolicy(STRICT, 'strict.yaml'), { fromMs: firstMs, toMs: lastMs });
  assert.deepEqual(r.actions, { stored: 12, notReplayable: 2 });
  assert.deepEqual(r.totals, { replayed: 10, stillAllowed: 0, stillDenied: 6, reasonsChanged: 6, newlyDenied: 4, newlyAllowed: 0, unreadable: 0 });
  assert.deepEqual(counts(r, 'newlyDenied'), { 'lifetime.agents': 4 });
  const ex = r.newlyDenied[0]!.examples;
  assert.equal(ex.length, 3);
  for (const e of ex) {
    assert.equal(e.taskId, TASK);
    assert.equal(e.agent, domain.id('inventory'));
    assert.equal(e.link, 1);
    assert.match(e.message, /3600s, at most 3000s/);
    assert.match(e.traceId, /^[0-9a-f]{32}$/);
  }
  assert.equal(r.truncated, false);
  assert.equal(r.storedPolicies.length, 1);
});

test('a looser draft: the spans it would newly allow, by the rule that denied them', async () => {
  const p = server!.pipeline;
  const r = await whatIfReport(p.readerClient, p.database, parsePolicy(LOOSE, 'loose.yaml'), {});
  assert.deepEqual(r.totals, { replayed: 10, stillAllowed: 4, stillDenied: 0, reasonsChanged: 0, newlyDenied: 0, newlyAllowed: 6, unreadable: 0 });
  assert.deepEqual(counts(r, 'newlyAllowed'), { 'lifetime.deep': 6 });
  assert.equal(r.newlyAllowed[0]!.examples[0]!.agent, domain.id('scanner'));
});

test('the range bounds what is replayed; a limit keeps the newest and says so; a bad range is refused', async () => {
  const p = server!.pipeline;
  const draft = parsePolicy(STRICT, 'strict.yaml');
  const later = await whatIfReport(p.readerClient, p.database, draft, { fromMs: lastMs });
  assert.deepEqual([later.totals.replayed, later.actions.stored], [0, 0]);
  const earlier = await whatIfReport(p.readerClient, p.database, draft, { toMs: firstMs });
  assert.equal(earlier.totals.replayed, 0);
  const limited = await whatIfReport(p.readerClient, p.database, draft, { limit: 3 });
  assert.deepEqual([limited.totals.replayed, limited.truncated], [3, true]);
  await assert.rejects(whatIfReport(p.readerClient, p.database, draft, { fromMs: lastMs, toMs: firstMs }), WhatIfRangeError);
  await assert.rejects(whatIfReport(p.readerClient, p.database, draft, { fromMs: 1e20 }), WhatIfRangeError);
});

test('`chainsight policy what-if` and `policy check` on the same store, once the server has stopped', async () => {
  await server!.stop();
  server = undefined;
  const env = { ...process.env, CLICKHOUSE_URL: '' };
  const json = await run(process.execPath, [CLI, 'policy', 'what-if', '--data', dataDir, '--policy', join(root, 'strict.yaml'), '--from', String(firstMs), '--to', 'now', '--json'], { env });
  const r = JSON.parse(json.stdout) as StoreWhatIfReport;
  assert.deepEqual([r.totals.newlyDenied, r.totals.replayed, r.actions.notReplayable], [4, 10, 2]);
  const text = await run(process.execPath, [CLI, 'policy', 'what-if', '--data', dataDir, '--policy', join(root, 'loose.yaml')], { env });
  assert.match(text.stdout, /Newly allowed: 6/);
  assert.match(text.stdout, /lifetime\.deep: 6 spans/);
  assert.match(text.stdout, /Not replayable: 2 of 12 stored actions/);

  // A draft that does not load: exit 1, every problem with its line; no store: exit 2.
  await writeFile(join(root, 'bad.yaml'), STRICT.replace('max: 2', 'max: zero').replace('fromDepth: 2', 'fromDepth: -1'));
  const bad = await run(process.execPath, [CLI, 'policy', 'what-if', '--data', dataDir, '--policy', join(root, 'bad.yaml')], { env }).catch((e: { code: number; stderr: string }) => e);
  assert.equal((bad as { code: number }).code, 1);
  assert.match((bad as { stderr: string }).stderr, /bad\.yaml:9:10: \/depth\/0\/max: must be integer/);
  assert.match((bad as { stderr: string }).stderr, /bad\.yaml:\d+:\d+: \/lifetime\/1\/fromDepth: must be >= 1/);
  const none = await run(process.execPath, [CLI, 'policy', 'what-if', '--data', join(root, 'nowhere'), '--policy', join(root, 'strict.yaml')], { env }).catch((e: { code: number; stderr: string }) => e);
  assert.equal((none as { code: number }).code, 2);
  assert.match((none as { stderr: string }).stderr, /no store in/);
  const badRange = await run(process.execPath, [CLI, 'policy', 'what-if', '--data', dataDir, '--policy', join(root, 'strict.yaml'), '--from', 'yesterday'], { env }).catch((e: { code: number; stderr: string }) => e);
  assert.equal((badRange as { code: number }).code, 2);

  const ok = await run(process.execPath, [CLI, 'policy', 'check', join(root, 'strict.yaml')], { env });
  assert.match(ok.stdout, /ok: version "what-if-/);
  const check = await run(process.execPath, [CLI, 'policy', 'check', join(root, 'bad.yaml')], { env }).catch((e: { code: number; stderr: string }) => e);
  assert.equal((check as { code: number }).code, 1);
  assert.match((check as { stderr: string }).stderr, /2 problems: the policy was not loaded/);
});
