/**
 * Trust bundles reload while spans flow through the real receiver into chdb:
 * a server started on an empty data directory fails every chain, starts
 * verifying once a bundle is dropped into its trust directory, fails again
 * with signature.unknown_key once a key is removed — and every span sent is
 * stored exactly once throughout.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/runtime/logger.js';
import { startServer, type RunningServer } from '../../src/runtime/server.js';
import { agentSpanAttributes } from '../../src/sdk/telemetry.js';
import type { ActionView } from '../../src/store/queries.js';
import { makeTrustDomain, standardChain, TASK, type TestDomain } from '../support/keys.js';
import { recordSpans, serializeSpans } from '../support/otel.js';

const SPANS_PER_REQUEST = 5;
let root: string;
let dataDir: string;
let server: RunningServer;
let staging: TestDomain;
let chain: string[];

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'chainsight-trust-e2e-'));
  dataDir = join(root, 'fresh', 'data');
  const config = loadConfig({ ...process.env, CLICKHOUSE_URL: process.env.CLICKHOUSE_URL ?? '' }, { data: dataDir, otlpPort: 0, apiPort: 0 });
  if (process.env.CLICKHOUSE_URL) config.store.database = `trust_e2e_${process.pid}`;
  server = await startServer(config, createLogger('silent'), { trustReload: { debounceMs: 100, pollMs: 500 } });
  // Keys made elsewhere, as an operator would, then dropped into the trust directory.
  staging = await makeTrustDomain();
  chain = await standardChain(staging);
});

after(async () => {
  await server?.stop();
  await staging?.cleanup();
  await rm(root, { recursive: true, force: true });
});

interface Sent {
  phase: string;
  batch: number;
}

async function storedActions(): Promise<ActionView[]> {
  const res = await fetch(`${server.apiUrl}/api/tasks/${TASK}/actions`);
  if (res.status === 404) return [];
  assert.equal(res.status, 200);
  return ((await res.json()) as { actions: ActionView[] }).actions;
}

async function metric(name: string): Promise<string[]> {
  const text = await (await fetch(`${server.apiUrl}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(name));
}

/** Atomic replace, as keygen and configuration tools write. */
async function writeBundle(text: string): Promise<void> {
  const path = join(dataDir, 'trust', 'co.com.jwks.json');
  await writeFile(path + '.tmp', text);
  await rename(path + '.tmp', path);
}

test('a key added starts verifying, a key removed starts failing, and no span is lost', async () => {
  assert.ok((await stat(join(dataDir, 'trust'))).isDirectory(), 'the trust directory was created');
  assert.deepEqual(server.pipeline.trust.trustDomains(), []);

  const sent = new Map<string, Sent>();
  let phase = 'none';
  let batch = 0;
  let stop = false;
  const sender = (async () => {
    while (!stop) {
      const b = batch++;
      const p = phase;
      const spans = await recordSpans({ 'service.name': 'scanner' }, (tracer) => {
        for (let i = 0; i < SPANS_PER_REQUEST; i++) {
          const name = `execute_tool b${b}-${i}`;
          sent.set(name, { phase: p, batch: b });
          tracer.startSpan(name, { attributes: agentSpanAttributes({ chain, taskId: TASK, agentId: staging.id('scanner'), agentName: 'scanner', operation: 'execute_tool', toolName: 'describe', scopesUsed: ['cloud:read'] }) }).end();
        }
      });
      const res = await fetch(`${server.otlpUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: serializeSpans(spans, 'protobuf') });
      assert.equal(res.status, 200, `batch ${b}: ${await res.text()}`);
    }
  })();

  /** Waits until a span sent in `p` is stored with a verdict matching `pred` (a lost reload fails here). */
  const until = async (p: string, pred: (a: ActionView) => boolean): Promise<void> => {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if ((await storedActions()).some((a) => sent.get(a.name)?.phase === p && pred(a))) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`no span of phase ${p} reached the expected verdict`);
  };

  try {
    await until('none', () => true);
    const bundleText = await readFile(join(staging.dir, 'co.com.jwks.json'), 'utf8');
    phase = 'added';
    await writeBundle(bundleText);
    await until('added', (a) => a.verdict === 'verified');
    const plannerKid = staging.agents.planner!.kid;
    const bundle = JSON.parse(bundleText) as { keys: Array<{ kid: string }> };
    phase = 'removed';
    await writeBundle(JSON.stringify({ ...bundle, keys: bundle.keys.filter((k) => k.kid !== plannerKid) }));
    await until('removed', (a) => a.verdict === 'failed');
  } finally {
    stop = true;
    await sender;
  }

  const actions = await storedActions();
  assert.equal(actions.length, sent.size, 'every span sent is stored, once');
  assert.deepEqual(new Set(actions.map((a) => a.name)), new Set(sent.keys()));

  // Per phase, in send order: the verdict switches once, at the reload, and never back.
  const byPhase = (p: string) => actions.filter((a) => sent.get(a.name)?.phase === p).sort((x, y) => sent.get(x.name)!.batch - sent.get(y.name)!.batch);
  const codes = (a: ActionView) => [...new Set(a.reasons)].join(',');
  const none = byPhase('none');
  assert.ok(none.length > 0);
  assert.ok(none.every((a) => a.verdict === 'failed' && codes(a) === 'signature.unknown_trust_domain'), 'no bundle: unknown trust domain');
  const added = byPhase('added');
  const firstVerified = added.findIndex((a) => a.verdict === 'verified');
  assert.ok(firstVerified >= 0);
  assert.ok(added.slice(0, firstVerified).every((a) => codes(a) === 'signature.unknown_trust_domain'), 'before the reload: still unknown');
  assert.ok(added.slice(firstVerified).every((a) => a.verdict === 'verified'), 'after the reload: verified, and stays so');
  const removed = byPhase('removed');
  const firstFailed = removed.findIndex((a) => a.verdict === 'failed');
  assert.ok(firstFailed >= 0);
  assert.ok(removed.slice(0, firstFailed).every((a) => a.verdict === 'verified'), 'before the reload: still verified');
  assert.ok(removed.slice(firstFailed).every((a) => codes(a) === 'signature.unknown_key'), 'after the reload: the removed key is unknown, even for a cached chain');

  // The delegation map follows the keys: the link the removed key signed is now stored as invalid (its newest row wins).
  const links = (await server.pipeline.queries.agentDelegations(staging.id('planner'))).items;
  const signedByPlanner = links.filter((l) => l.delegator === staging.id('planner'));
  assert.ok(signedByPlanner.length > 0);
  assert.ok(signedByPlanner.every((l) => l.valid === false), 'the planner-signed link is invalid after its key was removed');

  const ok = Number((await metric('chainsight_trust_reloads_total{result="ok"}'))[0]?.split(' ')[1]);
  assert.ok(ok >= 2, `${ok} reloads`);
  assert.deepEqual(await metric('chainsight_trust_reloads_total{result="failed"}'), []);
  assert.deepEqual(await metric('chainsight_trust_keys{'), ['chainsight_trust_keys{trust_domain="co.com"} 4']);
  assert.deepEqual(await metric('chainsight_trust_keys_refused{'), ['chainsight_trust_keys_refused{trust_domain="co.com"} 0']);
});

test('a bundle turned invalid while spans flow untrusts its domain, and the metrics say so', async () => {
  await writeBundle('{"keys": [');
  const deadline = Date.now() + 20_000;
  while (server.pipeline.trust.hasTrustDomain('co.com') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.equal(server.pipeline.trust.hasTrustDomain('co.com'), false);
  assert.deepEqual(await metric('chainsight_trust_bundles_refused '), ['chainsight_trust_bundles_refused 1']);
  assert.deepEqual(await metric('chainsight_trust_keys{'), ['chainsight_trust_keys{trust_domain="co.com"} 0']);
});
