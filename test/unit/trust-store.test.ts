/**
 * Trust bundles from a directory: every bad key and every bad file is refused
 * on its own, named, and never takes other keys or trust domains down; a
 * reload follows the files (fail closed) and keeps the keys in force only when
 * the directory itself cannot be read.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import type { Verdict } from '../../src/model/verdict.js';
import { generateKey } from '../../src/sdk/keys.js';
import { ChainVerifier } from '../../src/verify/chain-verifier.js';
import { defaultPolicy } from '../../src/verify/policy.js';
import { MAX_BUNDLE_BYTES, type ChainsightJwk } from '../../src/verify/trust-bundle.js';
import { TrustStore, TrustStoreError, type BundleResult } from '../../src/verify/trust-store.js';
import { prepareDirectories } from '../../src/runtime/trust-reload.js';
import { makeTrustDomain, spanFor, standardChain, type TestDomain } from '../support/keys.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chainsight-trust-'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function freshDir(name: string): Promise<string> {
  const d = join(dir, name);
  await mkdir(d, { recursive: true });
  return d;
}

async function ed25519(kid: string, extra: Partial<ChainsightJwk> = {}): Promise<ChainsightJwk> {
  const { publicKey } = await generateKeyPair('EdDSA', { extractable: true });
  return { ...(await exportJWK(publicKey)), kid, ...extra };
}

function rsa(kid: string, bits: number): ChainsightJwk {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return { ...(publicKey.export({ format: 'jwk' }) as ChainsightJwk), kid, chainsight_principal: 'spiffe://co.com/agent/rsa' };
}

function bundle(r: TrustStore, td: string): BundleResult {
  const b = r.lastLoad.bundles.find((x) => x.trustDomain === td);
  assert.ok(b, `no result for ${td}`);
  return b;
}

test('each bad key is refused on its own, named by kid; the rest of its bundle loads', async () => {
  const d = await freshDir('keys');
  const { privateKey } = await generateKeyPair('EdDSA', { extractable: true });
  const privateJwk = { ...(await exportJWK(privateKey)), kid: 'k-private', chainsight_principal: 'spiffe://co.com/agent/leaky' };
  const keys: unknown[] = [
    await ed25519('k-good', { chainsight_role: 'authorization' }),
    rsa('k-rsa2048', 2048),
    rsa('k-rsa1024', 1024),
    // A modulus nobody could use, only make verifiers work on: 9000 bits.
    { kty: 'RSA', e: 'AQAB', n: Buffer.concat([Buffer.from([0xc1]), randomBytes(1124)]).toString('base64url'), kid: 'k-rsa-huge' },
    { kty: 'oct', k: 'c2VjcmV0', kid: 'k-oct' },
    { ...(await ed25519('k-x25519')), crv: 'X25519' },
    { kty: 'EC', crv: 'P-521', x: 'AA', y: 'AA', kid: 'k-p521' },
    { kty: 'XYZ', kid: 'k-kty' },
    privateJwk,
    await ed25519('k-dup'),
    await ed25519('k-dup'),
    await ed25519('k-use', { use: 'enc' }),
    await ed25519('k-alg', { alg: 'ES256' }),
    await ed25519('k-role', { chainsight_role: 'admin' }),
    await ed25519('k-both', { chainsight_role: 'authorization', chainsight_principal: 'spiffe://co.com/agent/a' }),
    await ed25519('k-notspiffe', { chainsight_principal: 'agent-a' }),
    { ...(await ed25519('k-bad-x')), x: '!!!' },
    { ...(await ed25519('')), kid: undefined },
    42,
  ];
  await writeFile(join(d, 'co.com.jwks.json'), JSON.stringify({ keys }));
  const trust = await TrustStore.fromDirectory(d);
  const b = bundle(trust, 'co.com');
  assert.equal(b.error, undefined);
  assert.deepEqual([...b.keys.keys()].sort(), ['k-good', 'k-rsa2048']);
  assert.ok(trust.resolve('co.com', 'k-good'));
  assert.ok(trust.resolve('co.com', 'k-rsa2048'));
  const why = new Map(b.refusedKeys.map((k) => [k.kid ?? `#${k.index}`, k.reason]));
  assert.match(why.get('k-rsa1024') ?? '', /RSA key of 1024 bits; at least 2048/);
  assert.match(why.get('k-rsa-huge') ?? '', /RSA key of 9000 bits; at most 8192/);
  assert.match(why.get('k-oct') ?? '', /private key material \(k\)/, 'a symmetric key is secret material');
  assert.match(why.get('k-x25519') ?? '', /unsupported key type kty "OKP" crv "X25519"/);
  assert.match(why.get('k-p521') ?? '', /unsupported key type kty "EC" crv "P-521"/);
  assert.match(why.get('k-kty') ?? '', /unsupported key type kty "XYZ"/);
  assert.match(why.get('k-private') ?? '', /private key material \(d\).*exposed/);
  assert.match(why.get('k-dup') ?? '', /appears 2 times/);
  assert.equal(b.refusedKeys.filter((k) => k.kid === 'k-dup').length, 2, 'neither copy of a duplicated kid is trusted');
  assert.match(why.get('k-use') ?? '', /use must be "sig"/);
  assert.match(why.get('k-alg') ?? '', /alg "ES256" does not fit/);
  assert.match(why.get('k-role') ?? '', /chainsight_role must be "authorization"/);
  assert.match(why.get('k-both') ?? '', /both chainsight_role and chainsight_principal/);
  assert.match(why.get('k-notspiffe') ?? '', /not a workload SPIFFE ID/);
  assert.match(why.get('k-bad-x') ?? '', /cannot import key/);
  assert.match(why.get('#17') ?? '', /no kid/);
  assert.match(why.get('#18') ?? '', /not a JSON object/);
  assert.equal(b.refusedKeys.find((k) => k.kid === 'k-private')?.privateMaterial, true);
  for (const kid of ['k-private', 'k-rsa1024', 'k-dup', 'k-oct']) assert.equal(trust.resolve('co.com', kid), undefined, kid);
});

test('a bad bundle file is refused on its own and never takes other trust domains down', async () => {
  const d = await freshDir('files');
  const good = await makeTrustDomain({ dir: d, agents: ['planner', 'inventory', 'scanner'] });
  const other = await ed25519('k1', { chainsight_role: 'authorization' });
  await writeFile(join(d, 'broken.org.jwks.json'), '{"keys": [');
  await writeFile(join(d, 'nokeys.org.jwks.json'), JSON.stringify({ kys: [] }));
  await writeFile(join(d, 'array.org.jwks.json'), '[]');
  await writeFile(join(d, 'Bad_Name.jwks.json'), JSON.stringify({ keys: [other] }));
  await writeFile(join(d, 'declared.org.jwks.json'), JSON.stringify({ chainsight_trust_domain: 'partner.org', keys: [other] }));
  // co.com's keys saved under partner.net's name: its authorization key must not sign partner.net roots.
  const coBundle = JSON.parse(await readFile(join(d, 'co.com.jwks.json'), 'utf8')) as { keys: ChainsightJwk[] };
  await writeFile(join(d, 'partner.net.jwks.json'), JSON.stringify({ keys: coBundle.keys }));
  await mkdir(join(d, 'dir.org.jwks.json'));
  await writeFile(join(d, 'huge.org.jwks.json'), Buffer.alloc(MAX_BUNDLE_BYTES + 1, 0x20));
  execFileSync('mkfifo', [join(d, 'fifo.org.jwks.json')]);
  // Not bundles: ignored without a word.
  await writeFile(join(d, '.hidden.org.jwks.json'), 'junk');
  await writeFile(join(d, 'notes.txt'), 'junk');
  await writeFile(join(d, 'co.com.jwks.json.tmp'), 'junk');

  const trust = await TrustStore.fromDirectory(d);
  assert.deepEqual(trust.trustDomains(), ['co.com']);
  assert.equal(bundle(trust, 'co.com').keys.size, 4);
  assert.match(bundle(trust, 'broken.org').error ?? '', /invalid JSON/);
  assert.match(bundle(trust, 'nokeys.org').error ?? '', /no "keys" array/);
  assert.match(bundle(trust, 'array.org').error ?? '', /expected a JSON object/);
  assert.match(bundle(trust, 'Bad_Name').error ?? '', /not a valid trust domain name/);
  assert.match(bundle(trust, 'declared.org').error ?? '', /declares trust domain "partner.org" but its file name says declared.org/);
  assert.match(bundle(trust, 'partner.net').error ?? '', /in trust domain co.com: this file is not partner.net's bundle/);
  assert.match(bundle(trust, 'dir.org').error ?? '', /not a regular file/);
  assert.match(bundle(trust, 'huge.org').error ?? '', /at most/);
  assert.match(bundle(trust, 'fifo.org').error ?? '', /not a regular file/);
  assert.equal(trust.lastLoad.bundles.length, 10);
  for (const b of trust.lastLoad.bundles) assert.ok(b.source.startsWith(d), 'every result names its file');

  // The good domain verifies as before.
  const v = new ChainVerifier(trust, defaultPolicy());
  const chain = await standardChain(good);
  assert.equal((v.verifySpan(spanFor(chain)) as Verdict).status, 'verified');
});

test('keygen declares the trust domain in the bundle it writes, and such a bundle loads', async () => {
  const d = await freshDir('keygen');
  await generateKey({ dir: d, trustDomain: 'acme.example', authorization: true });
  const written = JSON.parse(await readFile(join(d, 'acme.example.jwks.json'), 'utf8')) as { chainsight_trust_domain: string };
  assert.equal(written.chainsight_trust_domain, 'acme.example');
  // Renamed to another domain, the same file is refused.
  await rename(join(d, 'acme.example.jwks.json'), join(d, 'other.example.jwks.json'));
  const trust = await TrustStore.fromDirectory(d);
  assert.deepEqual(trust.trustDomains(), []);
  assert.match(bundle(trust, 'other.example').error ?? '', /declares trust domain "acme.example"/);
});

test('in-memory bundles stay strict: any refusal throws', async () => {
  await assert.rejects(TrustStore.fromBundles({ 'co.com': { keys: [rsa('small', 1024)] } }), /bundle co.com: kid small: RSA key of 1024 bits/);
  const ok = await TrustStore.fromBundles({ 'co.com': { keys: [await ed25519('a', { chainsight_role: 'authorization' })] } });
  assert.equal(ok.keyCount('co.com'), 1);
});

test('an empty or missing trust directory: no trust domain; the runtime creates it', async () => {
  const empty = await freshDir('empty');
  const t = await TrustStore.fromDirectory(empty);
  assert.deepEqual([t.trustDomains(), t.lastLoad.bundles], [[], []]);
  const missing = join(dir, 'fresh', 'data', 'trust');
  await assert.rejects(TrustStore.fromDirectory(missing), TrustStoreError);
  await prepareDirectories({ dataDir: join(dir, 'fresh', 'data'), trustDir: missing, store: { database: 'x', target: { kind: 'embedded', dataDir: join(dir, 'fresh', 'data', 'clickhouse') } } });
  assert.ok((await stat(missing)).isDirectory());
  assert.deepEqual((await TrustStore.fromDirectory(missing)).trustDomains(), []);
  // A path that cannot become a directory is named, with the setting that chose it.
  await writeFile(join(dir, 'a-file'), '');
  await assert.rejects(
    prepareDirectories({ dataDir: join(dir, 'fresh', 'data'), trustDir: join(dir, 'a-file', 'trust'), store: { database: 'x', target: { kind: 'server', url: 'http://127.0.0.1:1' } } }),
    /cannot create the trust directory \(CHAINSIGHT_TRUST_DIR, --trust-dir\) .*a-file\/trust/,
  );
});

test('reload: the files as they are now are what is trusted; an unreadable directory keeps the keys in force', async () => {
  const d = await freshDir('reload');
  const td: TestDomain = await makeTrustDomain({ dir: d, agents: ['planner', 'inventory', 'scanner'] });
  const path = join(d, 'co.com.jwks.json');
  const goodText = await readFile(path, 'utf8');
  const trust = await TrustStore.fromDirectory(d);
  const v = new ChainVerifier(trust, defaultPolicy());
  const chain = await standardChain(td);
  const verdict = () => v.verifySpan(spanFor(chain)) as Verdict;
  assert.equal(verdict().status, 'verified');
  const gen = trust.generation;

  // Nothing changed: the caches stay.
  const same = await trust.reload();
  assert.equal(same.changed, false);
  assert.equal(trust.generation, gen);
  assert.equal(verdict().status, 'verified');
  assert.equal(v.stats.cacheResets, 0);

  // The bundle turns invalid: fail closed, the whole domain is untrusted.
  await writeFile(path, goodText.slice(0, 40));
  const broken = await trust.reload();
  assert.equal(broken.changed, true);
  assert.match(bundle(trust, 'co.com').error ?? '', /invalid JSON/);
  assert.deepEqual(broken.changes.map((c) => [c.trustDomain, c.added.length, c.removed.length]), [['co.com', 0, 4]]);
  assert.deepEqual(verdict().reasons.map((r) => r.code), ['signature.unknown_trust_domain', 'signature.unknown_trust_domain', 'signature.unknown_trust_domain']);
  assert.ok(trust.generation > gen);

  // Fixed: trusted again.
  await writeFile(path, goodText);
  await trust.reload();
  assert.equal(verdict().status, 'verified');

  // One key removed: only chains that need it fail, with unknown_key.
  const b = JSON.parse(goodText) as { keys: ChainsightJwk[] };
  const plannerKid = td.agents.planner!.kid;
  await writeFile(path, JSON.stringify({ ...b, keys: b.keys.filter((k) => k.kid !== plannerKid) }));
  const removed = await trust.reload();
  assert.deepEqual(removed.changes, [{ trustDomain: 'co.com', added: [], removed: [plannerKid] }]);
  assert.deepEqual(verdict().reasons.map((r) => `${r.code}@${r.link}`), ['signature.unknown_key@1']);

  // The directory goes away: the reload fails and the keys in force stay.
  const genBefore = trust.generation;
  await rm(d, { recursive: true });
  await assert.rejects(trust.reload(), /cannot read trust directory/);
  assert.equal(trust.generation, genBefore);
  assert.equal(trust.keyCount('co.com'), 3);
  assert.equal(trust.lastLoad, removed, 'lastLoad is the last successful load');
});

test('reloads run one at a time: concurrent requests end on the newest files', async () => {
  const d = await freshDir('serial');
  await makeTrustDomain({ dir: d, agents: ['a'] });
  const trust = await TrustStore.fromDirectory(d);
  const loads = await Promise.all([trust.reload(), (async () => {
    await generateKey({ dir: d, trustDomain: 'co.com', principal: 'spiffe://co.com/agent/late' });
    return trust.reload();
  })(), trust.reload()]);
  assert.equal(loads.length, 3);
  assert.equal(trust.keyCount('co.com'), 3, 'the key added during the reloads is trusted at the end');
});

test('the log names every refused file and kid, and says how to add a bundle when nothing is trusted', async () => {
  const { pino } = await import('pino');
  const { logLoad } = await import('../../src/runtime/trust-reload.js');
  const d = await freshDir('logged');
  await writeFile(join(d, 'co.com.jwks.json'), JSON.stringify({ keys: [rsa('weak', 1024)] }));
  await writeFile(join(d, 'bad.org.jwks.json'), 'not json');
  const lines: Array<{ level: number; msg: string; file?: string; kid?: string }> = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const trust = await TrustStore.fromDirectory(d);
  logLoad(logger, trust.lastLoad, 'start');
  const key = lines.find((l) => l.kid === 'weak');
  assert.equal(key?.file, join(d, 'co.com.jwks.json'));
  assert.match(key?.msg ?? '', /co\.com\.jwks\.json kid weak: RSA key of 1024 bits/);
  const file = lines.find((l) => l.file === join(d, 'bad.org.jwks.json'));
  assert.equal(file?.level, 50);
  assert.match(file?.msg ?? '', /trust bundle refused: .*bad\.org\.jwks\.json: invalid JSON/);
  assert.ok(lines.some((l) => l.msg.startsWith('no trusted keys') && l.msg.includes(`${d}/<trust-domain>.jwks.json`)), 'a bundle with only refused keys trusts nothing: the hint is given');

  // With a usable key the hint is gone and a summary is logged instead.
  await generateKey({ dir: d, trustDomain: 'co.com', authorization: true });
  lines.length = 0;
  logLoad(logger, await trust.reload(), 'signal');
  assert.ok(!lines.some((l) => l.msg.startsWith('no trusted keys')));
  assert.ok(lines.some((l) => l.msg === 'trust bundles reloaded; verification caches dropped'));
});
