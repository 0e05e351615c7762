/**
 * Token-exchange tokens beside signed links: uncached verification of the
 * same 3-actor path as one STS token (one signature) and as a 3-link chain
 * (three signatures), passes alternating so both see the same machine.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintExchangeToken } from '../src/sdk/exchange.js';
import { generateKey } from '../src/sdk/keys.js';
import { mintChild, mintRoot } from '../src/sdk/mint.js';
import { ChainVerifier, TrustStore, defaultPolicy } from '../src/verify/index.js';
import { median, report } from './stats.js';

const N = 1000;
const td = 'bench.example';
const dir = await mkdtemp(join(tmpdir(), 'chainsight-bench-exchange-'));
const id = (n: string) => `spiffe://${td}/agent/${n}`;
const authz = (await generateKey({ dir, trustDomain: td, authorization: true })).signingKey;
const sts = (await generateKey({ dir, trustDomain: td, sts: true })).signingKey;
const planner = (await generateKey({ dir, trustDomain: td, principal: id('planner') })).signingKey;
const inventory = (await generateKey({ dir, trustDomain: td, principal: id('inventory') })).signingKey;
const trust = await TrustStore.fromDirectory(dir);
const policy = defaultPolicy();
const scope = ['cloud:read'];

const chains: string[][] = [];
const tokens: string[][] = [];
for (let i = 0; i < N; i++) {
  const task = `task-${i}`;
  let c = await mintRoot({ authzKey: authz, human: 'alice@bench.example', agent: id('planner'), scope, task, ttlSec: 3600 });
  c = await mintChild({ parentChain: c, signerKey: planner, delegatee: id('inventory'), scope });
  c = await mintChild({ parentChain: c, signerKey: inventory, delegatee: id('scanner'), scope });
  chains.push(c);
  tokens.push([await mintExchangeToken({ stsKey: sts, human: 'alice@bench.example', actors: [id('planner'), id('inventory'), id('scanner')], scope, task, ttlSec: 3600 })]);
}

function pass(list: string[][]): number {
  const v = new ChainVerifier(trust, policy);
  const start = performance.now();
  for (const c of list) if ((v.check(c) as { reasons: unknown[] }).reasons.length) throw new Error('should verify');
  return (list.length * 1000) / (performance.now() - start);
}
pass(chains);
pass(tokens);
const links: number[] = [];
const sts1: number[] = [];
for (let r = 0; r < 5; r++) {
  links.push(pass(chains));
  sts1.push(pass(tokens));
}
await rm(dir, { recursive: true, force: true });
report({
  links_uncached_chain_per_sec: median(links),
  sts_uncached_chain_per_sec: median(sts1),
  sts_over_links: median(sts1) / median(links),
});
