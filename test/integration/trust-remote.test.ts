/**
 * Key rotation from an HTTPS JWKS endpoint (a real local HTTPS server with a
 * certificate made in the test) while spans flow through the real receiver
 * into chdb: the first span signed with the new key fetches the bundle once
 * (concurrent spans share the fetch) and verifies; after that refresh no span
 * verifies with the withdrawn key; unknown kids do not fetch again within the
 * rate limit; every span is stored exactly once. An X.509 authority added to
 * the (SPIFFE) bundle verifies x5c-signed links from their first span. A
 * restart while the endpoint is down verifies from the last good copy on disk.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type ChainsightConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/runtime/logger.js';
import { startServer, type RunningServer } from '../../src/runtime/server.js';
import { generateKey } from '../../src/sdk/keys.js';
import { mintChild } from '../../src/sdk/mint.js';
import { agentSpanAttributes } from '../../src/sdk/telemetry.js';
import type { ActionView } from '../../src/store/queries.js';
import type { ChainsightJwk, Jwks } from '../../src/verify/trust-bundle.js';
import { INVENTORY_SCOPE, makeTrustDomain, PLANNER_SCOPE, standardChain, TASK, type TestDomain } from '../support/keys.js';
import { recordSpans, serializeSpans } from '../support/otel.js';
import { issue, makeCa, mintWithSvid, startBundleServer, x509Authority, type BundleServer } from '../support/trust-pki.js';

let root: string;
let config: ChainsightConfig;
let server: RunningServer | undefined;
let endpoint: BundleServer;
let co: TestDomain;
let bundle: Jwks;
let oldChain: string[];
let newChain: string[];
let rotatedBundle: Jwks;

/** The remote source's clock, moved forward by the test to pass the unknown-kid rate limit. */
let skipMs = 0;
const remoteTimings = { unknownKeyIntervalMs: 60_000, minRefreshMs: 600_000, defaultRefreshMs: 600_000, now: () => Date.now() + skipMs };
const start = () => startServer(config, createLogger('silent'), { trustReload: { debounceMs: 100, pollMs: 500, remote: remoteTimings } });

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'chainsight-remote-e2e-'));
  const dataDir = join(root, 'data');
  const trustDir = join(dataDir, 'trust');
  await mkdir(trustDir, { recursive: true });
  const ca = makeCa(root, 'endpoint-ca');
  endpoint = await startBundleServer(root, ca);
  co = await makeTrustDomain();
  bundle = JSON.parse(await readFile(join(co.dir, 'co.com.jwks.json'), 'utf8')) as Jwks;
  endpoint.reply = { status: 200, contentType: 'application/json', body: JSON.stringify(bundle) };
  await writeFile(join(trustDir, 'endpoint-ca.pem'), ca.certPem);
  await writeFile(join(trustDir, 'sources.json'), JSON.stringify({ 'co.com': { url: endpoint.url, ca: 'endpoint-ca.pem' } }));

  // The planner's key rotates: a new key at the endpoint, the old one withdrawn.
  oldChain = await standardChain(co);
  const rotated = await generateKey({ dir: join(root, 'rotated'), trustDomain: 'co.com', principal: co.id('planner') });
  const viaNew = await mintChild({ parentChain: [oldChain[0]!], signerKey: rotated.signingKey, delegatee: co.id('inventory'), scope: PLANNER_SCOPE, ttlSec: 3600 });
  newChain = await mintChild({ parentChain: viaNew, signerKey: co.agents.inventory!, delegatee: co.id('scanner'), scope: INVENTORY_SCOPE, ttlSec: 1800 });
  rotatedBundle = { ...bundle, keys: [...bundle.keys.filter((k) => k.kid !== co.agents.planner!.kid), rotated.publicJwk as ChainsightJwk] };

  config = loadConfig({ ...process.env, CLICKHOUSE_URL: process.env.CLICKHOUSE_URL ?? '' }, { data: dataDir, otlpPort: 0, apiPort: 0 });
  if (process.env.CLICKHOUSE_URL) config.store.database = `trust_remote_e2e_${process.pid}`;
  server = await start();
});

after(async () => {
  await server?.stop();
  await endpoint?.close();
  await co?.cleanup();
  await rm(root, { recursive: true, force: true });
});

async function storedActions(): Promise<ActionView[]> {
  const res = await fetch(`${server!.apiUrl}/api/tasks/${TASK}/actions`);
  if (res.status === 404) return [];
  assert.equal(res.status, 200);
  return ((await res.json()) as { actions: ActionView[] }).actions;
}

let sequence = 0;
/** One OTLP request of `n` spans acting under `chain`; resolves once stored. Returns the span names. */
async function send(chain: string[], n = 5): Promise<string[]> {
  const names: string[] = [];
  const spans = await recordSpans({ 'service.name': 'scanner' }, (tracer) => {
    for (let i = 0; i < n; i++) {
      const name = `execute_tool s${sequence++}`;
      names.push(name);
      tracer.startSpan(name, { attributes: agentSpanAttributes({ chain, taskId: TASK, agentId: co.id('scanner'), agentName: 'scanner', operation: 'execute_tool', toolName: 'describe', scopesUsed: ['cloud:read'] }) }).end();
    }
  });
  const res = await fetch(`${server!.otlpUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: serializeSpans(spans, 'protobuf') });
  assert.equal(res.status, 200, await res.text());
  return names;
}

test('rotation at the HTTPS endpoint while spans flow: one shared fetch, no span lost, none verified with the withdrawn key after it', async () => {
  assert.equal(endpoint.requests, 1, 'fetched once at start');
  assert.equal(server!.pipeline.trust.keyCount('co.com'), bundle.keys.length);
  const phase = new Map<string, string>();
  const mark = (p: string) => (names: string[]) => names.forEach((n) => phase.set(n, p));

  for (let i = 0; i < 3; i++) mark('old')(await send(oldChain));
  // Published, not yet fetched: the keys in force still verify the old chain (the next refresh is minutes away).
  endpoint.reply = { ...endpoint.reply, body: JSON.stringify(rotatedBundle) };
  for (let i = 0; i < 2; i++) mark('old-published')(await send(oldChain));
  assert.equal(endpoint.requests, 1);
  // Spans under the new key arrive together: their unknown kid fetches once, and they all wait for it.
  (await Promise.all(Array.from({ length: 4 }, () => send(newChain)))).forEach(mark('new'));
  assert.equal(endpoint.requests, 2, 'concurrent spans with the unknown kid shared one fetch');
  for (let i = 0; i < 3; i++) mark('new')(await send(newChain));
  // The withdrawn key, after the refresh: its unknown kid is rate-limited, so no fetch, and it fails.
  for (let i = 0; i < 3; i++) mark('old-after')(await send(oldChain));
  assert.equal(endpoint.requests, 2, 'unknown kids within the rate limit do not fetch');

  const actions = await storedActions();
  assert.equal(actions.length, phase.size, 'every span sent is stored, once');
  assert.deepEqual(new Set(actions.map((a) => a.name)), new Set(phase.keys()));
  const verdicts = (p: string) => new Set(actions.filter((a) => phase.get(a.name) === p).map((a) => `${a.verdict}:${[...new Set(a.reasons)].join(',')}`));
  assert.deepEqual(verdicts('old'), new Set(['verified:']));
  assert.deepEqual(verdicts('old-published'), new Set(['verified:']));
  assert.deepEqual(verdicts('new'), new Set(['verified:']), 'even the first span under the new key verified: it waited for the refresh');
  assert.deepEqual(verdicts('old-after'), new Set(['failed:signature.unknown_key']));

  const metrics = await (await fetch(`${server!.apiUrl}/metrics`)).text();
  assert.match(metrics, /chainsight_trust_remote_fetches_total\{trust_domain="co.com",result="updated"\} 2/);
});

test('an X.509-SVID from an authority published after start verifies from its first span (SPIFFE bundle, x5c)', async () => {
  const ca = makeCa(root, 'co-x509-authority');
  const leaf = issue(root, ca, 'planner-svid', { san: `URI:${co.id('planner')}` });
  const viaSvid = await mintWithSvid({ parentChain: [oldChain[0]!], leaf, issuer: co.id('planner'), delegatee: co.id('inventory'), scope: PLANNER_SCOPE, ttlSec: 3600 });
  const svidChain = await mintChild({ parentChain: viaSvid, signerKey: co.agents.inventory!, delegatee: co.id('scanner'), scope: INVENTORY_SCOPE, ttlSec: 1800 });
  rotatedBundle = { ...rotatedBundle, keys: [...rotatedBundle.keys, x509Authority(ca) as ChainsightJwk], spiffe_sequence: 2, spiffe_refresh_hint: 3600 };
  endpoint.reply = { ...endpoint.reply, contentType: 'application/jwk-set+json', body: JSON.stringify(rotatedBundle) };
  skipMs += 61_000;
  const before = endpoint.requests;
  const names = (await Promise.all([send(svidChain), send(svidChain)])).flat();
  assert.equal(endpoint.requests - before, 1, 'the unanchored certificate fetched the bundle once');
  const stored = (await storedActions()).filter((a) => names.includes(a.name));
  assert.deepEqual(stored.map((a) => `${a.verdict}:${a.reasons.join(',')}`), names.map(() => 'verified:'));
  // A certificate for another agent, from the same authority, does not verify as the planner.
  const rogue = issue(root, ca, 'rogue-svid', { san: `URI:${co.id('rogue')}` });
  const viaRogue = await mintWithSvid({ parentChain: [oldChain[0]!], leaf: rogue, issuer: co.id('planner'), delegatee: co.id('inventory'), scope: PLANNER_SCOPE, ttlSec: 3600 });
  const rogueNames = await send(await mintChild({ parentChain: viaRogue, signerKey: co.agents.inventory!, delegatee: co.id('scanner'), scope: INVENTORY_SCOPE, ttlSec: 1800 }));
  const rogueStored = (await storedActions()).filter((a) => rogueNames.includes(a.name));
  assert.deepEqual([...new Set(rogueStored.map((a) => `${a.verdict}:${[...new Set(a.reasons)].join(',')}`))], ['failed:signature.certificate_invalid']);
});

test('a restart while the endpoint is down verifies from the last good copy', async () => {
  await server!.stop();
  server = undefined;
  endpoint.reply = { status: 503, contentType: 'text/plain', body: 'down' };
  server = await start();
  assert.equal(server.pipeline.trust.keyCount('co.com'), rotatedBundle.keys.filter((k) => k.use !== 'x509-svid').length);
  assert.equal(server.pipeline.trust.authorities('co.com').length, 1, 'the X.509 authority came back too');
  const names = await send(newChain);
  const stored = (await storedActions()).filter((a) => names.includes(a.name));
  assert.deepEqual(stored.map((a) => a.verdict), names.map(() => 'verified'));
  const metrics = await (await fetch(`${server.apiUrl}/metrics`)).text();
  assert.match(metrics, /chainsight_trust_remote_fetches_total\{trust_domain="co.com",result="kept"\} 1/);
  const age = Number(/chainsight_trust_remote_age_seconds\{trust_domain="co.com"\} ([\d.]+)/.exec(metrics)?.[1]);
  assert.ok(age > 0 && age < 600, `the copy in force was confirmed ${age} s ago, before the restart`);
});
