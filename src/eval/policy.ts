/**
 * The policies the evaluation runs under. The verifier's (depth 5, links of
 * at most 4 h) and the policy engine's rules (schemas/policy.md): every agent
 * type the scenario uses is known and every crossing it makes is allowed, so
 * that novelty is left to the detectors; the one rule the scenario breaks on
 * purpose is the write-lifetime rule. Pure.
 */
import type { Scenario } from './plan.js';
import { domainOf } from './world.js';

export const EVAL_VERIFY_POLICY = { maxDepth: 5, maxLifetimeSec: 4 * 3600 };

/** Write scopes the lifetime rule selects, across the tenants. */
export const WRITE_SCOPES = ['confluence:*', 'mail:*', 'deploy:*', 'repo:write'];

export function evalRulesYaml(s: Scenario): string {
  const types = new Set<string>();
  const crossings = new Map<string, Set<string>>();
  const typeOf = (agent: string) => agent.split('/').slice(-2, -1)[0]!;
  for (const l of s.links) {
    types.add(typeOf(l.delegatee));
    if (l.parent < 0 || domainOf(l.issuer) === domainOf(l.delegatee)) continue;
    const pair = `${domainOf(l.issuer)} ${domainOf(l.delegatee)}`;
    const scopes = crossings.get(pair) ?? new Set<string>();
    for (const x of l.scope) scopes.add(x);
    crossings.set(pair, scopes);
  }
  const allow = [...crossings].sort(([a], [b]) => a.localeCompare(b)).map(([pair, scopes], i) => {
    const [from, to] = pair.split(' ');
    return `    - id: cross.eval-${i}\n      from: ${from}\n      to: ${to}\n      maxScope: [${[...scopes].sort().map((x) => JSON.stringify(x)).join(', ')}]`;
  });
  return [
    '# The detection evaluation\'s policy (generated from the scenario).',
    'version: "eval-1"',
    'agentTypes:',
    '  id: agent-type.known',
    '  patterns:',
    '    - path: /agent/{type}/*',
    `  types: [${[...types].sort().join(', ')}]`,
    'depth:',
    '  - id: depth.global',
    `    max: ${EVAL_VERIFY_POLICY.maxDepth}`,
    'lifetime:',
    '  - id: lifetime.max',
    `    maxSec: ${EVAL_VERIFY_POLICY.maxLifetimeSec}`,
    '  - id: lifetime.write',
    `    scopes: [${WRITE_SCOPES.map((x) => JSON.stringify(x)).join(', ')}]`,
    '    fromDepth: 2',
    '    maxSec: 7200',
    'crossDomain:',
    '  id: cross-domain.default',
    '  allow:',
    ...allow,
    '',
  ].join('\n');
}
