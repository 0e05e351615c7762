/**
 * Chain verification cost: raw node:crypto signature checks of a chain's three
 * links, beside chainsight verifying the same chain uncached and cached.
 */
import { createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChainVerifier, TrustStore, defaultPolicy } from '../src/verify/index.js';
import { makeWorkload } from './workload.js';
import { median, rate, report } from './stats.js';
import { makeSpanFor } from './spans.js';

const w = await makeWorkload({ chains: 1000, spansPerChain: 1, spansPerRequest: 1000 });
const trust = await TrustStore.fromDirectory(w.trustDir);
const policy = { ...defaultPolicy(), implications: w.implications };

// Raw: public keys imported once, tokens pre-split, nothing but the signature check.
const jwks = JSON.parse(readFileSync(join(w.trustDir, 'bench.example.jwks.json'), 'utf8')) as { keys: Array<{ kid: string }> };
const keys = new Map<string, KeyObject>(jwks.keys.map((k) => [k.kid, createPublicKey({ key: k as never, format: 'jwk' })]));
const split = w.chains.map((chain) => chain.map((t) => {
  const [h, p, s] = t.split('.');
  const header = JSON.parse(Buffer.from(h!, 'base64url').toString()) as { kid: string };
  return { key: keys.get(header.kid)!, input: Buffer.from(`${h}.${p}`), sig: Buffer.from(s!, 'base64url') };
}));
// Raw and uncached passes alternate, each over every chain once, so both see the same machine.
function rawPass(): number {
  const start = performance.now();
  for (const chain of split) for (const l of chain) if (!cryptoVerify(null, l.input, l.key, l.sig)) throw new Error('bad signature');
  return (split.length * 1000) / (performance.now() - start);
}
let signatureChecks = 0;
function uncachedPass(): number {
  // A fresh verifier: every link and chain is new to it (every chain's links are distinct).
  const v = new ChainVerifier(trust, policy);
  const start = performance.now();
  for (const chain of w.chains) if ((v.check(chain) as { reasons: unknown[] }).reasons.length) throw new Error('chain should verify');
  const perSec = (w.chains.length * 1000) / (performance.now() - start);
  signatureChecks = v.stats.signatureChecks;
  return perSec;
}
rawPass();
uncachedPass();
const raws: number[] = [];
const uncacheds: number[] = [];
for (let r = 0; r < 5; r++) {
  raws.push(rawPass());
  uncacheds.push(uncachedPass());
}
const raw = { perSec: median(raws) };
const uncached = { perSec: median(uncacheds) };

const cachedVerifier = new ChainVerifier(trust, policy);
const spans = w.chains.map((chain) => makeSpanFor(chain));
for (const s of spans) cachedVerifier.verifySpan(s);
let k = 0;
const cached = await rate(() => {
  for (let n = 0; n < 1000; n++) cachedVerifier.verifyDetailed(spans[k++ % spans.length]!);
});

report({
  raw_crypto_chain_per_sec: raw.perSec,
  uncached_chain_per_sec: uncached.perSec,
  uncached_over_raw: raw.perSec / uncached.perSec,
  cached_span_per_sec: cached.perSec * 1000,
  cached_us_per_span: 1000 / (cached.perSec * 1000) * 1000,
  signature_checks_per_uncached_pass: signatureChecks,
});
