/**
 * Turns a planned scenario into what the pipeline receives: a trust
 * directory with every domain's authorization key and every delegating
 * agent's key, each planned link minted (real Ed25519 signatures, in
 * simulated time), and each planned span as a decoded AgentSpan stamped with
 * its received time. Keys are random, so signatures differ between runs;
 * everything the labels depend on does not.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentSpan } from '../model/span.js';
import { generateKey, type SigningKey } from '../sdk/keys.js';
import { mintChild, mintRoot } from '../sdk/mint.js';
import type { PlannedSpan, Scenario } from './plan.js';
import { evalRulesYaml, EVAL_VERIFY_POLICY } from './policy.js';
import { domainOf } from './world.js';

export interface MaterializedScenario {
  trustDir: string;
  /** The verifier's policy file (JSON) and the policy engine's rules (YAML). */
  policyPath: string;
  rulesPath: string;
  /** Each planned link's whole chain, root first, by link id. */
  chains: string[][];
  toSpan(p: PlannedSpan): AgentSpan;
}

export async function materialize(s: Scenario, dir: string): Promise<MaterializedScenario> {
  const trustDir = join(dir, 'trust');
  const authz = new Map<string, SigningKey>();
  for (const d of s.domains) authz.set(d, (await generateKey({ dir: trustDir, trustDomain: d, authorization: true })).signingKey);
  const keys = new Map<string, SigningKey>();
  for (const agent of s.signers) keys.set(agent, (await generateKey({ dir: trustDir, trustDomain: domainOf(agent), principal: agent })).signingKey);

  const chains: string[][] = [];
  for (const l of s.links) {
    const common = { scope: l.scope, ttlSec: l.ttlSec, now: l.iatMs, jti: l.jti };
    chains[l.id] = l.parent < 0
      ? await mintRoot({ ...common, authzKey: authz.get(domainOf(l.delegatee))!, human: l.issuer, agent: l.delegatee, task: l.taskId, purpose: l.purpose })
      : await mintChild({ ...common, parentChain: chains[l.parent]!, signerKey: keys.get(l.issuer)!, delegatee: l.delegatee });
  }
  const policyPath = join(dir, 'policy.json');
  const rulesPath = join(dir, 'rules.yaml');
  await writeFile(policyPath, JSON.stringify(EVAL_VERIFY_POLICY, null, 2) + '\n');
  await writeFile(rulesPath, evalRulesYaml(s));
  return { trustDir, policyPath, rulesPath, chains, toSpan: (p) => toAgentSpan(p, chains) };
}

export function toAgentSpan(p: PlannedSpan, chains: readonly string[][]): AgentSpan {
  return {
    traceId: p.traceId, spanId: p.spanId, parentSpanId: p.parentSpanId, name: p.name, kind: p.kind,
    startNs: `${p.startMs}000000`, endNs: `${p.endMs}000000`, startMs: p.startMs, endMs: p.endMs, receivedAtMs: p.receivedAtMs,
    statusCode: 0, serviceName: p.agentName, taskId: p.taskId, chain: p.link >= 0 ? chains[p.link]! : null,
    agentId: p.agentId, agentName: p.agentName, operation: p.operation, toolName: p.toolName, scopesUsed: p.scopesUsed, resource: p.resource,
    attributes: p.attributes,
  };
}
