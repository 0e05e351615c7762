/**
 * Remote trust bundles against a real HTTPS server with a certificate made in
 * the test: the endpoint is verified and treated as hostile, a bundle is
 * cached in memory and on disk, an unknown kid triggers one shared,
 * rate-limited refresh, and domains never mix.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import type { Verdict } from '../../src/model/verdict.js';
import { generateKey } from '../../src/sdk/keys.js';
import { mintChild } from '../../src/sdk/mint.js';
import { ChainVerifier } from '../../src/verify/chain-verifier.js';
import { defaultPolicy } from '../../src/verify/policy.js';
import type { ChainsightJwk, Jwks } from '../../src/verify/trust-bundle.js';
import { fetchBundle, isBundleContentType } from '../../src/verify/trust-remote-fetch.js';
import { parseTrustSources, readTrustSources } from '../../src/verify/trust-remote-sources.js';
import { isRollback, refreshDelayMs, RemoteTrust, type RemoteTrustOptions } from '../../src/verify/trust-remote.js';
import { TrustStore } from '../../src/verify/trust-store.js';
import { makeTrustDomain, PLANNER_SCOPE, spanFor, standardChain, type TestDomain } from '../support/keys.js';
import { makeCa, startBundleServer, type BundleServer, type Pem } from '../support/trust-pki.js';

let dir: string;
let ca: Pem;
let srv: BundleServer;
let co: TestDomain;
let bundle: Jwks;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chainsight-remote-'));
  ca = makeCa(dir, 'endpoint-ca');
  srv = await startBundleServer(dir, ca);
  co = await makeTrustDomain();
  bundle = JSON.parse(await readFile(join(co.dir, 'co.com.jwks.json'), 'utf8')) as Jwks;
});
after(async () => {
  await srv?.close();
  await co?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

function serve(body: unknown, over: Partial<BundleServer['reply']> = {}): void {
  srv.reply = { status: 200, contentType: 'application/json', body: typeof body === 'string' ? body : JSON.stringify(body), ...over };
}

async function remoteFor(opts: Partial<RemoteTrustOptions> = {}, trustDomain = 'co.com', url = srv.url): Promise<{ store: TrustStore; remote: RemoteTrust; cacheDir: string }> {
  const store = await TrustStore.fromBundles({});
  const cacheDir = opts.cacheDir ?? (await mkdtemp(join(dir, 'cache-')));
  const remote = new RemoteTrust(store, [{ trustDomain, url, ca: ca.certPem }], { minRefreshMs: 60_000, defaultRefreshMs: 600_000, ...opts, cacheDir });
  return { store, remote, cacheDir };
}

test('the endpoint is fetched over verified TLS: with its CA it answers, without it the TLS check refuses', async () => {
  serve(bundle);
  const ok = await fetchBundle({ url: srv.url, ca: ca.certPem });
  assert.equal(ok.ok, true);
  const untrusted = await fetchBundle({ url: srv.url });
  assert.equal(untrusted.ok, false);
  assert.match((untrusted as { error: string }).error, /certificate/i);
  const other = makeCa(dir, 'other-ca');
  assert.equal((await fetchBundle({ url: srv.url, ca: other.certPem })).ok, false, 'a CA other than the endpoint’s is not enough');
  const plain = await fetchBundle({ url: srv.url.replace('https:', 'http:') });
  assert.match(plain.ok ? '' : plain.error, /not an https URL/);
  const garbageCa = await fetchBundle({ url: srv.url, ca: '-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n' });
  assert.equal(garbageCa.ok, false, 'a CA that does not parse is an answer, never a crash');
});

test('hostile answers are refused with a reason: redirect, status, content type, size, slowness', async () => {
  const get = async () => {
    const r = await fetchBundle({ url: srv.url, ca: ca.certPem, timeoutMs: 500, maxBytes: 4096 });
    return r.ok ? 'ok' : r.error;
  };
  serve(bundle, { status: 302, headers: { location: 'https://127.0.0.1:1/elsewhere' } });
  assert.match(await get(), /redirect \(302\) refused/);
  serve('oops', { status: 500 });
  assert.match(await get(), /HTTP 500/);
  serve('<html>login</html>', { contentType: 'text/html' });
  assert.match(await get(), /content type "text\/html" is not JSON/);
  serve({ keys: [], pad: 'x'.repeat(10_000) });
  assert.match(await get(), /at most 4096/);
  serve(bundle, { delayMs: 2_000 });
  assert.match(await get(), /within 500 ms/);
  serve(bundle, { contentType: 'application/jwk-set+json; charset=utf-8' });
  assert.equal(await get(), 'ok');
  assert.equal(isBundleContentType('application/json'), true);
  assert.equal(isBundleContentType('application/javascript'), false);
  assert.equal(isBundleContentType(undefined), false);
});

test('a fetched bundle is in force, kept on disk, and used at a restart while the endpoint is down', async () => {
  serve(bundle);
  const first = await remoteFor();
  const [o] = await first.remote.start();
  assert.equal(o?.result, 'updated');
  assert.equal(first.store.keyCount('co.com'), bundle.keys.length);
  first.remote.close();

  serve('down', { status: 503 });
  const again = await remoteFor({ cacheDir: first.cacheDir });
  const [kept] = await again.remote.start();
  assert.equal(kept?.result, 'kept');
  assert.equal(again.store.keyCount('co.com'), bundle.keys.length, 'the last good copy is in force');
  const chain = await standardChain(co);
  assert.equal((new ChainVerifier(again.store, defaultPolicy()).verifySpan(spanFor(chain)) as Verdict).status, 'verified');
  again.remote.close();

  const fresh = await remoteFor();
  await fresh.remote.start();
  assert.equal(fresh.store.hasTrustDomain('co.com'), false, 'no copy, endpoint down: no keys (fail closed)');
  fresh.remote.close();
});

test('a last good copy older than maxStaleMs is not used, and an unreachable endpoint past it untrusts the domain', async () => {
  serve(bundle);
  let now = Date.now();
  const r = await remoteFor({ maxStaleMs: 1000, now: () => now });
  await r.remote.start();
  assert.equal(r.store.keyCount('co.com'), bundle.keys.length);
  serve('down', { status: 503 });
  now += 500;
  assert.equal((await r.remote.refresh('co.com')).result, 'kept');
  assert.equal(r.store.keyCount('co.com'), bundle.keys.length);
  now += 1000;
  assert.equal((await r.remote.refresh('co.com')).result, 'untrusted');
  assert.equal(r.store.hasTrustDomain('co.com'), false);
  r.remote.close();
  const restarted = await remoteFor({ cacheDir: r.cacheDir, maxStaleMs: 1000, now: () => now });
  await restarted.remote.start();
  assert.equal(restarted.store.hasTrustDomain('co.com'), false, 'the stale copy is not resurrected');
  restarted.remote.close();
});

test('a document that is not a valid bundle untrusts the domain and removes the disk copy; an empty bundle is in force as is', async () => {
  serve(bundle);
  const r = await remoteFor();
  await r.remote.start();
  await stat(join(r.cacheDir, 'co.com.json'));
  serve('{"keys": [');
  const broken = await r.remote.refresh('co.com');
  assert.equal(broken.result, 'untrusted');
  assert.match(broken.error ?? '', /invalid JSON/);
  assert.equal(r.store.hasTrustDomain('co.com'), false);
  await assert.rejects(stat(join(r.cacheDir, 'co.com.json')), /ENOENT/);
  serve({ keys: [] });
  assert.equal((await r.remote.refresh('co.com')).result, 'updated');
  assert.equal(r.store.hasTrustDomain('co.com'), true);
  assert.equal(r.store.keyCount('co.com'), 0, 'a bundle that drops every key drops them: nothing is kept from before');
  r.remote.close();
});

test('bundles of different trust domains never mix', async () => {
  const partner = await makeTrustDomain({ trustDomain: 'partner.org', agents: ['helper'] });
  try {
    const partnerBundle = JSON.parse(await readFile(join(partner.dir, 'partner.org.jwks.json'), 'utf8')) as Jwks;
    serve(partnerBundle);
    const r = await remoteFor();
    const [o] = await r.remote.start();
    assert.equal(o?.result, 'untrusted');
    assert.match(o?.error ?? '', /declares trust domain "partner.org"/);
    assert.equal(r.store.hasTrustDomain('co.com'), false);
    assert.equal(r.store.hasTrustDomain('partner.org'), false, 'nothing of the document reached another domain');
    // Stripped of its declaration, its agent keys still name partner.org.
    const { chainsight_trust_domain: _td, ...undeclared } = partnerBundle;
    serve(undeclared);
    const again = await r.remote.refresh('co.com');
    assert.match(again.error ?? '', /belongs to spiffe:\/\/partner.org\/agent\/helper/);
    assert.equal(r.store.hasTrustDomain('co.com'), false);
    r.remote.close();
    // A domain's file in the trust directory is ignored once the domain is remote: one source per domain.
    const fromDir = await TrustStore.fromDirectory(co.dir);
    assert.equal(fromDir.keyCount('co.com'), bundle.keys.length);
    const remote = new RemoteTrust(fromDir, [{ trustDomain: 'co.com', url: srv.url, ca: ca.certPem }], { cacheDir: await mkdtemp(join(dir, 'cache-')) });
    assert.equal(fromDir.hasTrustDomain('co.com'), false);
    await remote.start();
    assert.equal(fromDir.hasTrustDomain('co.com'), false, "the refused remote bundle is not replaced by the directory's file");
    await fromDir.reload();
    assert.equal(fromDir.hasTrustDomain('co.com'), false, 'nor after a directory reload');
    remote.close();
  } finally {
    await partner.cleanup();
  }
});

test('spiffe_sequence going backwards is refused as a rollback; the hint sets the next refresh within bounds', async () => {
  serve({ ...bundle, spiffe_sequence: 5, spiffe_refresh_hint: 1 });
  const r = await remoteFor({ minRefreshMs: 60_000 });
  const [o] = await r.remote.start();
  assert.equal(o?.nextInMs, 60_000, 'a 1 s hint is raised to the lower bound');
  serve({ ...bundle, keys: [], spiffe_sequence: 4 });
  const back = await r.remote.refresh('co.com');
  assert.equal(back.result, 'rollback');
  assert.equal(r.store.keyCount('co.com'), bundle.keys.length);
  serve({ ...bundle, spiffe_sequence: 6, spiffe_refresh_hint: 120 });
  assert.equal((await r.remote.refresh('co.com')).nextInMs, 120_000);
  r.remote.close();

  const bounds = { minRefreshMs: 30_000, maxRefreshMs: 3_600_000, defaultRefreshMs: 300_000 };
  assert.equal(refreshDelayMs(undefined, bounds), 300_000);
  assert.equal(refreshDelayMs(5, bounds), 30_000);
  assert.equal(refreshDelayMs(86_400, bounds), 3_600_000);
  assert.equal(refreshDelayMs(600, bounds), 600_000);
  const at = (sequence?: number) => ({ sequence } as Parameters<typeof isRollback>[1]);
  assert.equal(isRollback(at(3), at(2)), true);
  assert.equal(isRollback(at(3), at(3)), false);
  assert.equal(isRollback(at(undefined), at(1)), false);
});

test('the refresh hint drives scheduled refreshes', async () => {
  serve({ ...bundle, spiffe_refresh_hint: 1 });
  const before = srv.requests;
  const r = await remoteFor({ minRefreshMs: 100, maxRefreshMs: 200 });
  await r.remote.start();
  const deadline = Date.now() + 10_000;
  while (srv.requests - before < 3 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
  r.remote.close();
  assert.ok(srv.requests - before >= 3, `${srv.requests - before} fetches`);
});

test('an unknown kid triggers one shared refresh, rate-limited per domain; the rotated key then verifies and the removed one fails', async () => {
  const plannerKid = co.agents.planner!.kid;
  serve(bundle);
  let now = Date.now();
  const r = await remoteFor({ unknownKeyIntervalMs: 30_000, now: () => now });
  await r.remote.start();
  const verifier = new ChainVerifier(r.store, defaultPolicy());
  verifier.useRefresher(r.remote);

  // The planner's key rotates: a new key, published at the endpoint, the old one withdrawn.
  const rotatedDir = await mkdtemp(join(dir, 'rotated-'));
  const rotated = await generateKey({ dir: rotatedDir, trustDomain: 'co.com', principal: co.id('planner') });
  const oldChain = await standardChain(co);
  const root = [oldChain[0]!];
  const newChain = await mintChild({ parentChain: root, signerKey: rotated.signingKey, delegatee: co.id('inventory'), scope: PLANNER_SCOPE, ttlSec: 3600 });
  const span = spanFor(newChain, { agentId: co.id('inventory'), scopesUsed: ['cloud:read'] });
  const rotatedBundle: Jwks = { ...bundle, keys: [...bundle.keys.filter((k) => k.kid !== plannerKid), rotated.publicJwk as ChainsightJwk] };

  assert.equal((verifier.verifyOrRefresh(spanFor(oldChain)) as { verdict: Verdict }).verdict.status, 'verified', 'cached before the rotation');
  const before = srv.requests;
  // Not published yet: twenty spans at once share one fetch, which finds nothing new.
  const v = new ChainVerifier(r.store, defaultPolicy());
  v.useRefresher(r.remote);
  const first = await Promise.all(Array.from({ length: 20 }, () => v.verifyOrRefresh(span)));
  assert.ok(first.every((d) => d.verdict.reasons.some((x) => x.code === 'signature.unknown_key')));
  assert.equal(srv.requests - before, 1, 'one fetch for twenty concurrent spans');
  // Published now, but the domain's unknown-kid budget is spent: no fetch, still unknown.
  serve(rotatedBundle);
  const limited = v.verifyOrRefresh(span);
  assert.ok(!(limited instanceof Promise), 'a rate-limited miss answers synchronously');
  assert.equal(limited.verdict.reasons[0]?.code, 'signature.unknown_key');
  assert.equal(srv.requests - before, 1, 'rate-limited: no second fetch');
  // After the interval, the next unknown kid refreshes and the span verifies.
  now += 30_001;
  const after = await v.verifyOrRefresh(span);
  assert.deepEqual(after.verdict, { status: 'verified', reasons: [] });
  assert.equal(srv.requests - before, 2);
  // The withdrawn key: the chain verified (and cached) before the refresh now fails.
  const old = await verifier.verifyOrRefresh(spanFor(oldChain));
  assert.ok(old.verdict.reasons.some((x) => x.code === 'signature.unknown_key' && x.link === 1), JSON.stringify(old.verdict));
  // A known kid costs nothing: synchronous, no fetch.
  const again = v.verifyOrRefresh(span);
  assert.ok(!(again instanceof Promise));
  assert.equal(srv.requests - before, 2);
  r.remote.close();
});

test('the sources file: trust domain → https url and optional CA file; every problem reported at once', async () => {
  const base = '/etc/chainsight';
  const good = parseTrustSources({ 'co.com': { url: 'https://keys.co.com/b.json', ca: 'co.pem' }, 'p.org': { url: 'https://p.org/b' } }, base);
  assert.deepEqual(good.problems, []);
  assert.deepEqual(good.sources, [{ trustDomain: 'co.com', url: 'https://keys.co.com/b.json', caFile: '/etc/chainsight/co.pem' }, { trustDomain: 'p.org', url: 'https://p.org/b' }]);
  const bad = parseTrustSources({ 'Bad Domain': {}, 'co.com': { url: 'http://keys.co.com/b' }, 'p.org': { url: 'https://u:p@p.org/', extra: 1 }, 'q.org': 'https://q.org' }, base);
  assert.equal(bad.problems.length, 5, bad.problems.join('\n'));
  assert.match(bad.problems.join('\n'), /not a trust domain name[\s\S]*not an https URL[\s\S]*unknown member "extra"[\s\S]*carries credentials[\s\S]*expected an object/);
  assert.deepEqual(parseTrustSources([], base).problems.length, 1);

  const f = join(dir, 'sources.json');
  await writeFile(join(dir, 'ca.pem'), ca.certPem);
  await writeFile(f, JSON.stringify({ 'co.com': { url: srv.url, ca: 'ca.pem' } }));
  const read = readTrustSources(f, true);
  assert.equal(read[0]?.ca, ca.certPem);
  await writeFile(f, JSON.stringify({ 'co.com': { url: srv.url, ca: 'missing.pem' } }));
  assert.throws(() => readTrustSources(f, true), /cannot read CA/);
  assert.deepEqual(readTrustSources(join(dir, 'none.json'), false), [], 'no file at the default place: no remote sources');
  assert.throws(() => readTrustSources(join(dir, 'none.json'), true), /cannot read trust sources/);
  // Through the configuration: one message with every problem, naming the variable.
  await writeFile(f, JSON.stringify({ 'co.com': { url: 'http://plain.example/b', ca: 'missing.pem' } }));
  assert.throws(() => loadConfig({ CHAINSIGHT_TRUST_SOURCES: f }, { data: join(dir, 'cfg') }), (e: Error) => /CHAINSIGHT_TRUST_SOURCES: [\s\S]*not an https URL[\s\S]*cannot read CA/.test(e.message));
  assert.deepEqual(loadConfig({}, { data: join(dir, 'cfg') }).trustSources.sources, [], 'no sources file: no remote domains');
});
