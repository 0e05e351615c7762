/** The chain and link caches: observable through the verifier's counters. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Verdict } from '../../src/model/verdict.js';
import { generateKey, type SigningKey } from '../../src/sdk/keys.js';
import { mintChild } from '../../src/sdk/mint.js';
import { ChainVerifier, chainKey } from '../../src/verify/chain-verifier.js';
import { defaultPolicy } from '../../src/verify/policy.js';
import { makeTrustDomain, spanFor, standardChain, type TestDomain } from '../support/keys.js';

const NOW = Math.floor(Date.now() / 1000) * 1000;
let d: TestDomain;
before(async () => {
  d = await makeTrustDomain();
});
after(() => d.cleanup());

test('a chain seen again costs a lookup, never a second signature check', async () => {
  const v = new ChainVerifier(await d.trust(), defaultPolicy());
  const chain = await standardChain(d, { now: NOW });
  const first = v.verifySpan(spanFor(chain, { startMs: NOW + 1000 }));
  assert.ok(!(first instanceof Promise));
  assert.equal(v.stats.signatureChecks, 3);
  assert.equal(v.stats.chainMisses, 1);
  for (let i = 0; i < 5; i++) {
    const again = v.verifySpan(spanFor([...chain], { startMs: NOW + 2000 + i }));
    assert.ok(!(again instanceof Promise), 'a cached chain answers synchronously');
    assert.equal(again.status, 'verified');
  }
  assert.equal(v.stats.signatureChecks, 3);
  assert.equal(v.stats.chainHits, 5);
});

test('a link shared by two chains is verified once', async () => {
  const v = new ChainVerifier(await d.trust(), defaultPolicy());
  const two = await standardChain(d, { now: NOW, depth: 2 });
  const a = await mintChild({ parentChain: two, signerKey: d.agents.inventory as SigningKey, delegatee: d.id('scanner'), scope: ['cloud:read'], now: NOW });
  const b = await mintChild({ parentChain: two, signerKey: d.agents.inventory as SigningKey, delegatee: d.id('rogue'), scope: ['cloud:list'], now: NOW });
  v.check(a);
  assert.equal(v.stats.signatureChecks, 3);
  v.check(b);
  assert.equal(v.stats.signatureChecks, 4, 'only the new leaf is verified');
  assert.equal(v.stats.linkHits, 2);
});

test('failed checks are cached too', async () => {
  const v = new ChainVerifier(await d.trust(), defaultPolicy());
  const chain = await standardChain(d, { now: NOW });
  const [h, p] = (chain[2] as string).split('.');
  const forged = [chain[0] as string, chain[1] as string, `${h}.${p}.${'A'.repeat(86)}`];
  const first = v.check(forged);
  assert.ok(!(first instanceof Promise));
  assert.equal(first.reasons[0]?.code, 'signature.invalid');
  const checks = v.stats.signatureChecks;
  const again = v.check(forged);
  assert.equal(again, first);
  assert.equal(v.stats.signatureChecks, checks);
});

test('a trust store reload drops the caches when the keys changed, and only then', async () => {
  const trust = await d.trust();
  const v = new ChainVerifier(trust, defaultPolicy());
  const chain = await standardChain(d, { now: NOW });
  v.check(chain);
  assert.equal(v.stats.signatureChecks, 3);
  await trust.reload();
  v.check(chain);
  assert.equal(v.stats.cacheResets, 0, 'same files, same keys: the caches stay');
  assert.equal(v.stats.signatureChecks, 3);
  await generateKey({ dir: d.dir, trustDomain: 'co.com', principal: d.id('newcomer') });
  await trust.reload();
  v.check(chain);
  assert.equal(v.stats.cacheResets, 1);
  assert.equal(v.stats.signatureChecks, 6, 'verified again against the reloaded keys');
});

test('a reload that removes a key turns a cached success into a failure', async () => {
  const local = await makeTrustDomain({ agents: ['planner', 'inventory', 'scanner'] });
  try {
    const trust = await local.trust();
    const v = new ChainVerifier(trust, defaultPolicy());
    const chain = await standardChain(local, { now: NOW });
    assert.equal((v.verifySpan(spanFor(chain, { startMs: NOW + 1000 })) as Verdict).status, 'verified');
    // Rotate planner: a fresh key replaces the bundle entry file-wide.
    const { writeFile, readFile } = await import('node:fs/promises');
    const path = `${local.dir}/co.com.jwks.json`;
    const bundle = JSON.parse(await readFile(path, 'utf8')) as { keys: { kid: string }[] };
    bundle.keys = bundle.keys.filter((k) => k.kid !== (local.agents.planner as SigningKey).kid);
    await writeFile(path, JSON.stringify(bundle));
    await trust.reload();
    const after = v.verifySpan(spanFor(chain, { startMs: NOW + 1000 })) as Verdict;
    assert.deepEqual(after.reasons.map((r) => `${r.code}@${r.link}`), ['signature.unknown_key@1']);
    // And keys added later are picked up on the next reload.
    const late = await generateKey({ dir: local.dir, trustDomain: 'co.com', principal: local.id('late') });
    assert.equal(trust.resolve('co.com', late.signingKey.kid), undefined);
    await trust.reload();
    assert.equal(trust.resolve('co.com', late.signingKey.kid)?.principal, local.id('late'));
  } finally {
    await local.cleanup();
  }
});

test('chain keys: different splits of the same text never collide', () => {
  assert.notEqual(chainKey(['a.b', 'c']), chainKey(['a', 'b.c']));
  assert.notEqual(chainKey(['ab']), chainKey(['a', 'b']));
  assert.equal(chainKey(['x', 'y']), chainKey(['x', 'y']));
});

test('the cache is bounded', async () => {
  const v = new ChainVerifier(await d.trust(), defaultPolicy(), { chainCacheSize: 2, linkCacheSize: 2 });
  for (const t of ['a', 'b', 'c', 'a']) v.check([t]);
  assert.equal(v.stats.chainMisses, 4, 'the oldest entry was evicted');
});

test('a cached chain is never reused for another chain ending in the same link', async () => {
  const v = new ChainVerifier(await d.trust(), defaultPolicy());
  const good = await standardChain(d, { now: NOW });
  const otherRoot = await standardChain(d, { now: NOW + 1000, depth: 1 });
  // Splice: a different root in front of the same later links.
  const spliced = [otherRoot[0]!, ...good.slice(1)];
  const span = spanFor(good, { startMs: NOW + 5000 });
  assert.equal((v.verifySpan(span) as Verdict).status, 'verified');
  const verdict = v.verifySpan({ ...span, chain: spliced }) as Verdict;
  assert.equal(verdict.status, 'failed');
  assert.ok(verdict.reasons.some((r) => r.code === 'chain.parent_mismatch' && r.link === 1));
  assert.equal(v.stats.chainMisses, 2);
  // And the original is still answered correctly afterwards.
  assert.equal((v.verifySpan(span) as Verdict).status, 'verified');
});
