/**
 * Test helper: a trust domain with real Ed25519 keys in a temp directory, and
 * a standard 3-link chain (alice → planner → inventory → scanner) minted with
 * the SDK. Everything is real: bundles on disk, jose-signed links.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey, type SigningKey } from '../../src/sdk/keys.js';
import { mintChild, mintRoot, type Instant } from '../../src/sdk/mint.js';
import { TrustStore } from '../../src/verify/trust-store.js';
import type { AgentSpan } from '../../src/model/span.js';
import { makeSpan } from './spans.js';

export const TASK = 'task-12345';
export const HUMAN = 'alice@company.com';

export interface TestDomain {
  dir: string;
  trustDomain: string;
  authz: SigningKey;
  /** Agent keys by short name; each key's principal is `id(name)`. */
  agents: Record<string, SigningKey>;
  id(name: string): string;
  trust(): Promise<TrustStore>;
  cleanup(): Promise<void>;
}

export async function makeTrustDomain(opts: { trustDomain?: string; agents?: string[]; dir?: string } = {}): Promise<TestDomain> {
  const trustDomain = opts.trustDomain ?? 'co.com';
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'chainsight-keys-')));
  const id = (name: string): string => `spiffe://${trustDomain}/agent/${name}`;
  const authz = (await generateKey({ dir, trustDomain, authorization: true })).signingKey;
  const agents: Record<string, SigningKey> = {};
  for (const name of opts.agents ?? ['planner', 'inventory', 'scanner', 'rogue']) {
    agents[name] = (await generateKey({ dir, trustDomain, principal: id(name) })).signingKey;
  }
  return {
    dir,
    trustDomain,
    authz,
    agents,
    id,
    trust: () => TrustStore.fromDirectory(dir),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export const ROOT_SCOPE = ['infrastructure:review', 'cloud:*', 'reports:write'];
export const PLANNER_SCOPE = ['cloud:read', 'cloud:list', 'reports:write'];
export const INVENTORY_SCOPE = ['cloud:read'];

/** A valid chain of `depth` links (1–3): alice → planner → inventory → scanner. */
export async function standardChain(d: TestDomain, opts: { depth?: number; now?: Instant; ttlSec?: number } = {}): Promise<string[]> {
  const depth = opts.depth ?? 3;
  const now = opts.now ?? Date.now();
  let chain = await mintRoot({
    authzKey: d.authz,
    human: HUMAN,
    agent: d.id('planner'),
    scope: ROOT_SCOPE,
    task: TASK,
    purpose: 'quarterly infrastructure review',
    ttlSec: opts.ttlSec ?? 7200,
    now,
  });
  if (depth >= 2) chain = await mintChild({ parentChain: chain, signerKey: d.agents.planner as SigningKey, delegatee: d.id('inventory'), scope: PLANNER_SCOPE, ttlSec: 3600, now });
  if (depth >= 3) chain = await mintChild({ parentChain: chain, signerKey: d.agents.inventory as SigningKey, delegatee: d.id('scanner'), scope: INVENTORY_SCOPE, ttlSec: 1800, now });
  return chain;
}

/** A span acting under `chain`, valid by default for the standard 3-link chain. */
export function spanFor(chain: string[] | null, over: Partial<AgentSpan> = {}): AgentSpan {
  return makeSpan({
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    name: 'execute_tool describe_instances',
    statusCode: 1,
    serviceName: 'scanner',
    taskId: TASK,
    chain,
    agentId: 'spiffe://co.com/agent/scanner',
    agentName: 'scanner',
    toolName: 'describe_instances',
    scopesUsed: ['cloud:read'],
    resource: 'arn:aws:ec2:eu-west-1:123456789012:instance/*',
    startMs: Date.now(),
    ...over,
  });
}
