import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { VerifiedLink } from '../../src/model/delegation.js';
import { parseRevocationRequest, newRevocation, RevocationRequestError, type Revocation } from '../../src/revoke/model.js';
import { inForce, revocationReasons, RevocationSet } from '../../src/revoke/revocation-set.js';
import { CHAIN_LINKS, RevocationStage } from '../../src/revoke/stage.js';
import { SpanBatch } from '../../src/pipeline/stage.js';
import { ChainVerifier, defaultPolicy } from '../../src/verify/index.js';
import { makeTrustDomain, spanFor, standardChain, HUMAN, type TestDomain } from '../support/keys.js';

const NOW = Date.now();
let domain: TestDomain;
let chain: string[];
let verifier: ChainVerifier;
let links: VerifiedLink[];

before(async () => {
  domain = await makeTrustDomain();
  chain = await standardChain(domain, { now: NOW - 60_000 });
  verifier = new ChainVerifier(await domain.trust(), defaultPolicy());
  links = (verifier.verifyDetailed(spanFor(chain)).check?.links ?? []) as VerifiedLink[];
  assert.equal(links.length, 3);
});
after(() => domain.cleanup());

function rev(kind: Revocation['kind'], target: string, revokedAtMs = NOW - 1000, expiresAtMs = 0): Revocation {
  return newRevocation({ kind, target, reason: 'compromised', revokedBy: 'soc@co.com', revokedAtMs }, NOW, expiresAtMs);
}

describe('parseRevocationRequest', () => {
  it('accepts a complete request', () => {
    const r = parseRevocationRequest({ kind: 'link', target: 'abc', reason: 'leaked', revokedBy: 'bob' }, NOW);
    assert.deepEqual(r, { kind: 'link', target: 'abc', reason: 'leaked', revokedBy: 'bob' });
  });
  it('reports every problem of a hostile body at once', () => {
    assert.throws(
      () => parseRevocationRequest({ kind: 'everything', target: '', reason: 'x'.repeat(1001), revokedBy: 'a\nb', revokedAt: NOW + 60_000, extra: 1 }, NOW),
      (err: Error) => err instanceof RevocationRequestError && ['kind', 'target', 'reason', 'revokedBy', 'future', 'unknown fields'].every((w) => err.message.includes(w)),
    );
    for (const bad of [null, [], 'link', 42]) assert.throws(() => parseRevocationRequest(bad, NOW), RevocationRequestError);
  });
  it('takes an earlier effective time', () => {
    assert.equal(parseRevocationRequest({ kind: 'key', target: 'k1', reason: 'r', revokedBy: 'b', revokedAt: new Date(NOW - 5000).toISOString() }, NOW).revokedAtMs, NOW - 5000);
  });
});

describe('RevocationSet.covering', () => {
  it('a link revocation by hash covers every chain holding the link, at its position', () => {
    const hits = new RevocationSet([rev('link', links[1]!.hash)], 1).covering(links);
    assert.deepEqual(hits.map((h) => h.link), [1]);
    // The chain above the revoked link is not covered.
    assert.equal(new RevocationSet([rev('link', links[1]!.hash)], 1).covering(links.slice(0, 1)).length, 0);
  });
  it('a link revocation by jti', () => {
    assert.deepEqual(new RevocationSet([rev('link', links[2]!.claims.jti)], 1).covering(links).map((h) => h.link), [2]);
  });
  it('an agent revocation wherever the principal delegates or is delegated to; a human too', () => {
    assert.deepEqual(new RevocationSet([rev('agent', domain.id('inventory'))], 1).covering(links).map((h) => h.link), [1, 2]);
    assert.deepEqual(new RevocationSet([rev('agent', HUMAN)], 1).covering(links).map((h) => h.link), [0]);
  });
  it('a key revocation by kid', () => {
    assert.deepEqual(new RevocationSet([rev('key', links[1]!.kid)], 1).covering(links).map((h) => h.link), [1]);
  });
  it('nothing else: other links, agents and keys pass', () => {
    const set = new RevocationSet([rev('link', 'not-a-link'), rev('agent', domain.id('rogue')), rev('key', 'unknown-kid')], 1);
    assert.deepEqual(set.covering(links), []);
  });
});

describe('revocationReasons', () => {
  const r = rev('agent', 'x', NOW);
  it('fails spans starting at or after the revocation with its kind', () => {
    const out = revocationReasons([{ revocation: r, link: 1 }], NOW);
    assert.equal(out[0]?.code, 'revoked.agent');
    assert.equal(out[0]?.link, 1);
    assert.match(out[0]!.message, /soc@co\.com/);
    assert.equal(revocationReasons([{ revocation: rev('key', 'k', NOW), link: 0 }], NOW + 1)[0]?.code, 'revoked.key');
    assert.equal(revocationReasons([{ revocation: rev('link', 'l', NOW), link: 0 }], NOW + 1)[0]?.code, 'revoked.link');
  });
  it('spans before it keep their verdict', () => {
    assert.deepEqual(revocationReasons([{ revocation: r, link: 1 }], NOW - 1), []);
  });
  it('a span without a usable start is judged as after (fail closed)', () => {
    assert.equal(revocationReasons([{ revocation: r, link: 1 }], 0).length, 1);
    assert.equal(revocationReasons([{ revocation: r, link: 1 }], NaN).length, 1);
  });
});

describe('inForce', () => {
  it('never-expiring revocations stay; others until expiry plus the grace', () => {
    assert.equal(inForce(rev('agent', 'a'), NOW + 1e12, 1000), true);
    const r = rev('link', 'l', NOW, NOW + 10_000);
    assert.equal(inForce(r, NOW + 11_000, 1000), true);
    assert.equal(inForce(r, NOW + 11_001, 1000), false);
  });
});

describe('RevocationStage', () => {
  it('never serves a pre-revocation answer from its cache after the set changes', () => {
    let set = RevocationSet.EMPTY;
    const stage = new RevocationStage(() => set);
    const span = spanFor(chain, { startMs: NOW });
    const run = () => {
      const batch = new SpanBatch([span], NOW);
      batch.details[0] = verifier.verifyDetailed(span);
      stage.process(batch);
      return batch;
    };
    const first = run();
    assert.equal(first.verdict(0).status, 'verified');
    assert.equal(first.rows(CHAIN_LINKS).length, 1, 'the chain and its link hashes');
    assert.deepEqual(first.rows(CHAIN_LINKS)[0]!.link_hashes, links.map((l) => l.hash));
    set = new RevocationSet([rev('link', links[0]!.hash, NOW - 1)], 1);
    const second = run();
    assert.deepEqual(second.verdict(0).reasons.map((r) => [r.code, r.link]), [['revoked.link', 0]]);
    // Not acknowledged yet: emitted again. Once stored, not again.
    assert.equal(second.rows(CHAIN_LINKS).length, 1);
    stage.stored(second);
    set = RevocationSet.EMPTY;
    const third = run();
    assert.equal(third.verdict(0).status, 'verified', 'a lifted or expired revocation stops failing spans');
    assert.equal(third.rows(CHAIN_LINKS).length, 0);
  });
});
