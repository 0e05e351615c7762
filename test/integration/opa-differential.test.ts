/**
 * Differential test: the built-in engine and a real OPA server (built from
 * the Go module by scripts/build-opa.sh, running policies/chainsight.rego)
 * must agree — same result, same applied rules, same violated (rule, link)
 * pairs — on fast-check-generated chains and actions, under two policies
 * (the shipped one, and one exercising every optional section's absence).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { evaluateAction, evaluateChain } from '../../src/policy/engine.js';
import { parsePolicy } from '../../src/policy/loader.js';
import { OpaPolicyClient } from '../../src/policy/opa-client.js';
import type { PolicyDecision } from '../../src/policy/types.js';
import { opaBinary, startOpa, type OpaServer } from '../support/opa.js';
import { actionInputArb, chainInputArb } from '../support/policy-inputs.js';

const shipped = parsePolicy(readFileSync(new URL('../../policies/default.yaml', import.meta.url), 'utf8'), 'policies/default.yaml');
const bare = parsePolicy(
  `version: bare
agentTypes:
  id: types
  patterns:
    - {trustDomain: acme.example, path: "/agent/{type}/*"}
    - {path: "/agent/{type}"}
  types: [planning, cloud-inventory, analytics, execution]
depth:
  - {id: depth.acme, trustDomain: acme.example, max: 2}
  - {id: depth.planning, rootAgentType: planning, max: 3}
lifetime:
  - {id: life.pii, scopes: ["PII:*", "*:review"], maxSec: 1800, fromDepth: 2}
delegation:
  - {id: exec, to: [execution, analytics], from: [planning, human]}
approval:
  - {id: appr.cloud, scopes: ["cloud:r*"]}
  - {id: appr.reports, scopes: ["Reports:Write"]}
`,
  'bare.yaml',
);
const wildcardsOff = parsePolicy(
  readFileSync(new URL('../../policies/default.yaml', import.meta.url), 'utf8')
    .replace('allowed: true', 'allowed: false')
    .replace('    - id: cross.acme-to-partner-analytics', '    - id: cross.any-partner\n      from: acme.example\n      to: partner.example\n      maxScope: ["*"]\n    - id: cross.acme-to-partner-analytics'),
  'wildcards-off.yaml',
);

/** What must agree: result, applied rules, and the violated (rule, link) pairs. */
function essence(d: PolicyDecision): { result: string; rules: string[]; violations: string[] } {
  return { result: d.result, rules: [...new Set(d.rules)].sort(), violations: [...new Set(d.reasons.map((r) => `${r.rule}@${r.link ?? -1}`))].sort() };
}

const bin = opaBinary();

describe('built-in engine and OPA agree', { skip: bin.path ? false : `no OPA binary: ${bin.why}` }, () => {
  let opa: OpaServer;
  let client: OpaPolicyClient;
  before(async () => {
    opa = await startOpa(bin.path as string);
    client = new OpaPolicyClient({ url: opa.url, ttlMs: 0 });
  });
  after(async () => opa?.stop());

  const cases: Array<[string, typeof shipped, number, number]> = [
    ['shipped policy', shipped, 800, 200],
    ['bare policy (optional sections absent)', bare, 300, 100],
    ['wildcards forbidden, two crossing rules', wildcardsOff, 200, 50],
  ];
  for (const [name, policy, actions, chains] of cases) {
    test(`${name}: ${actions} actions and ${chains} chains`, async () => {
      await client.putPolicy(policy);
      let denied = 0;
      let allowed = 0;
      await fc.assert(
        fc.asyncProperty(actionInputArb(), async (input) => {
          const mine = evaluateAction(policy, input);
          const theirs = await client.evaluateAction(input);
          assert.deepEqual(essence(theirs), essence(mine), JSON.stringify(input));
          assert.equal(theirs.revision, policy.data.revision);
          if (mine.result === 'deny') denied++;
          else allowed++;
        }),
        { numRuns: actions, seed: 424242 },
      );
      await fc.assert(
        fc.asyncProperty(chainInputArb(), async (input) => {
          assert.deepEqual(essence(await client.evaluateChain(input)), essence(evaluateChain(policy, input)), JSON.stringify(input));
        }),
        { numRuns: chains, seed: 4242 },
      );
      // The generator must reach both outcomes, or agreement proves little.
      assert.ok(denied > actions / 10 && allowed > actions / 20, `allowed ${allowed}, denied ${denied}`);
    });
  }
});
