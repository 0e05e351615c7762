/**
 * Links signed with an X.509-SVID (`x5c`): certificates made with openssl in
 * the test, a SPIFFE bundle holding the trust domain's X.509 authority, and
 * every rule with a passing and a failing case.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Verdict } from '../../src/model/verdict.js';
import { mintChild, mintRoot } from '../../src/sdk/mint.js';
import { ChainVerifier } from '../../src/verify/chain-verifier.js';
import { defaultPolicy } from '../../src/verify/policy.js';
import { importBundle, type ChainsightJwk, type Jwks } from '../../src/verify/trust-bundle.js';
import { TrustStore } from '../../src/verify/trust-store.js';
import { digitalSignatureUsage, parseX5c, uriSans } from '../../src/verify/trust-x509.js';
import { HUMAN, INVENTORY_SCOPE, makeTrustDomain, PLANNER_SCOPE, ROOT_SCOPE, spanFor, TASK, type TestDomain } from '../support/keys.js';
import { issue, makeCa, mintWithSvid, x509Authority, type Pem } from '../support/trust-pki.js';

let dir: string;
let co: TestDomain;
let ca: Pem;
let trust: TrustStore;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chainsight-x5c-'));
  co = await makeTrustDomain();
  ca = makeCa(dir, 'co-ca', 3);
  const bundle = JSON.parse(await readFile(join(co.dir, 'co.com.jwks.json'), 'utf8')) as Jwks;
  trust = await TrustStore.fromBundles({ 'co.com': { ...bundle, keys: [...bundle.keys, x509Authority(ca) as ChainsightJwk], spiffe_sequence: 1 } });
});
after(async () => {
  await co?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

const svid = (name: string, uri = `spiffe://co.com/agent/${name}`, o: Parameters<typeof issue>[3] = {}, issuer = ca) => issue(dir, issuer, `${name}-${Math.random().toString(36).slice(2, 8)}`, { san: `URI:${uri}`, ...o });

/** alice → planner (signed by the authorization key) → inventory, signed by the planner's X.509-SVID `x5c`. */
async function chainSignedBy(x5c: string[], leaf: Pem, nowMs = Date.now(), ttlSec = 1800): Promise<string[]> {
  const root = await mintRoot({ authzKey: co.authz, human: HUMAN, agent: co.id('planner'), scope: ROOT_SCOPE, task: TASK, ttlSec: 7200, now: nowMs });
  const withCert = await mintWithSvid({ parentChain: root, leaf, issuer: co.id('planner'), x5c, delegatee: co.id('inventory'), scope: PLANNER_SCOPE, ttlSec, now: nowMs });
  return mintChild({ parentChain: withCert, signerKey: co.agents.inventory!, delegatee: co.id('scanner'), scope: INVENTORY_SCOPE, ttlSec: 900, now: nowMs });
}

function verdict(chain: string[], startMs = Date.now()): Verdict {
  return new ChainVerifier(trust, defaultPolicy()).verifySpan(spanFor(chain, { startMs })) as Verdict;
}

const codes = (v: Verdict) => v.reasons.map((r) => `${r.code}@${r.link}`);

test('a link signed with an X.509-SVID that chains to the bundle’s authority and names its issuer verifies', async () => {
  const leaf = svid('planner');
  assert.deepEqual(verdict(await chainSignedBy([leaf.der64], leaf)), { status: 'verified', reasons: [] });
  // Through an intermediate CA carried in x5c.
  const inter = issue(dir, ca, 'intermediate', { ca: true });
  const viaInter = svid('planner', undefined, {}, inter);
  assert.deepEqual(verdict(await chainSignedBy([viaInter.der64, inter.der64], viaInter)), { status: 'verified', reasons: [] });
  assert.equal(codes(verdict(await chainSignedBy([viaInter.der64], viaInter)))[0], 'signature.certificate_invalid@1', 'the intermediate is needed to reach the authority');
});

test('a certificate for another agent (wrong URI SAN) fails', async () => {
  const rogue = svid('rogue');
  const v = verdict(await chainSignedBy([rogue.der64], rogue));
  assert.deepEqual(codes(v), ['signature.certificate_invalid@1']);
  assert.match(v.reasons[0]!.message, /is for spiffe:\/\/co.com\/agent\/rogue, not the link's issuer spiffe:\/\/co.com\/agent\/planner/);
  const two = svid('planner', 'spiffe://co.com/agent/planner,URI:spiffe://co.com/agent/rogue');
  assert.match(verdict(await chainSignedBy([two.der64], two)).reasons[0]!.message, /2 URI SANs/);
});

test('a certificate from a CA the bundle does not hold fails', async () => {
  const other = makeCa(dir, 'other-ca');
  const leaf = svid('planner', undefined, {}, other);
  const v = verdict(await chainSignedBy([leaf.der64], leaf));
  assert.deepEqual(codes(v), ['signature.certificate_invalid@1']);
  assert.match(v.reasons[0]!.message, /does not lead to one of the trust domain's X.509 authorities/);
  // Carrying the foreign CA in x5c changes nothing: anchors come from the bundle only.
  assert.deepEqual(codes(verdict(await chainSignedBy([leaf.der64, other.der64], leaf))), ['signature.certificate_invalid@1']);
});

test('a certificate not valid when the link was signed fails; a link may not outlive its certificate', async () => {
  const leaf = svid('planner');
  const later = Date.parse(leaf.cert.validTo) + 3_600_000;
  const v = verdict(await chainSignedBy([leaf.der64], leaf, later), later + 1000);
  assert.ok(codes(v).includes('signature.certificate_invalid@1'), JSON.stringify(v));
  assert.match(v.reasons.find((r) => r.code === 'signature.certificate_invalid')!.message, /not valid at the link's iat/);
  const nearEnd = Date.parse(leaf.cert.validTo) - 600_000;
  const outlives = verdict(await chainSignedBy([leaf.der64], leaf, nearEnd, 1800), nearEnd + 1000);
  assert.deepEqual(codes(outlives), ['time.outlives_parent@1']);
  assert.deepEqual(verdict(await chainSignedBy([leaf.der64], leaf, nearEnd, 300), nearEnd + 1000).status, 'verified');
});

test('a CA certificate as leaf, or a leaf that may not sign, fails', async () => {
  const caLeaf = svid('planner', undefined, { ca: true });
  assert.match(verdict(await chainSignedBy([caLeaf.der64], caLeaf)).reasons[0]!.message, /leaf certificate is a CA certificate/);
  const noSign = svid('planner', undefined, { keyUsage: 'keyEncipherment' });
  assert.match(verdict(await chainSignedBy([noSign.der64], noSign)).reasons[0]!.message, /does not allow digitalSignature/);
  assert.equal(digitalSignatureUsage(noSign.cert), false);
  assert.equal(digitalSignatureUsage(svid('planner').cert), true);
  assert.deepEqual(uriSans(svid('planner').cert), ['spiffe://co.com/agent/planner']);
});

test('the signature must be the certificate key’s, and a root link is never signed by an SVID', async () => {
  const leaf = svid('planner');
  const other = svid('planner');
  // Signed with another key than the certificate presented.
  const chain = await chainSignedBy([other.der64], leaf);
  assert.deepEqual(codes(verdict(chain)), ['signature.invalid@1']);
  const root = await mintRoot({ authzKey: co.authz, human: HUMAN, agent: co.id('planner'), scope: ROOT_SCOPE, task: TASK, ttlSec: 3600, unsafe: { header: { x5c: [leaf.der64] } } });
  assert.ok(codes(verdict(root)).includes('signature.key_not_bound@0'));
});

test('x5c must be an array of standard base64 certificates, a few at most', () => {
  assert.match(String(parseX5c('abc')), /non-empty array/);
  assert.match(String(parseX5c(['not_base64-url'])), /not standard base64/);
  assert.match(String(parseX5c(['AAAA'])), /not an X.509 certificate/);
  assert.match(String(parseX5c(Array(5).fill('AAAA'))), /at most 4/);
});

test('a SPIFFE bundle: x509-svid authorities and jwt-svid keys load; a bad authority is refused on its own', async () => {
  const leaf = svid('planner');
  const other = makeCa(dir, 'mismatch-ca');
  const jwt = { ...(co.agents.planner ? (JSON.parse(await readFile(join(co.dir, 'co.com.jwks.json'), 'utf8')) as Jwks).keys[1]! : {}), use: 'jwt-svid' };
  const r = await importBundle('co.com', {
    spiffe_sequence: 7,
    spiffe_refresh_hint: 300,
    keys: [
      x509Authority(ca),
      { ...x509Authority(ca), x5c: [other.der64] },
      { ...x509Authority(leaf), kid: 'leaf' },
      { ...x509Authority(ca), x5c: [ca.der64, ca.der64], kid: 'two' },
      jwt,
    ],
  }, 'test');
  assert.equal(r.error, undefined);
  assert.equal(r.authorities.length, 1);
  assert.equal(r.keys.size, 1, 'a jwt-svid key is a signing key');
  assert.equal(r.sequence, 7);
  assert.equal(r.refreshHintSec, 300);
  assert.deepEqual(r.refusedKeys.map((k) => k.reason.replace(/:.*/, '')), [
    'the JWK key members do not match the x5c certificate',
    'the x509-svid certificate is not a CA certificate',
    'an x509-svid key must carry exactly one certificate in x5c',
  ]);
  assert.match((await importBundle('co.com', { keys: [], spiffe_refresh_hint: -1 }, 't')).error ?? '', /spiffe_refresh_hint/);
  assert.match((await importBundle('co.com', { keys: [], spiffe_sequence: 'x' }, 't')).error ?? '', /spiffe_sequence/);
});
