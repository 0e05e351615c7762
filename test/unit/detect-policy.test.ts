/** Detector 6, policy violations: one alert per (rule, agent, task), severity per rule; allowed actions stay quiet. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolicyViolationDetector } from '../../src/detect/policy/violations.js';
import { parsePolicyViolationConfig } from '../../src/detect/policy/config.js';
import { alertId } from '../../src/detect/alert.js';
import { actionRow } from '../support/alerts.js';

const X = 'spiffe://co.example/agent/x';
const config = parsePolicyViolationConfig({ rules: { 'no-prod-writes': 'critical' } }, '/policy', []);
const observe = (rows: ReturnType<typeof actionRow>[]) => new PolicyViolationDetector(config).observe({ nowMs: 0, actions: rows, delegations: [] }).signals;

test('each policy reason raises a trigger of the alert for its rule, agent and task', () => {
  const rows = [
    actionRow({ agentId: X, taskId: 't1' }, [{ code: 'policy.no-prod-writes', message: 'write to prod' }]),
    actionRow({ agentId: X, taskId: 't1' }, [{ code: 'policy.no-prod-writes', message: 'write to prod' }, { code: 'policy.depth', message: 'too deep' }]),
    actionRow({ agentId: X, taskId: 't2' }, [{ code: 'policy.no-prod-writes', message: 'write to prod' }]),
  ];
  const s = observe(rows);
  assert.equal(s.length, 4);
  const ids = new Map<string, number>();
  for (const x of s) ids.set(alertId(x), (ids.get(alertId(x)) ?? 0) + 1);
  assert.deepEqual([...ids.values()].sort(), [1, 1, 2], 'rule×agent×task: (prod, t1) twice, (depth, t1) and (prod, t2) once');
  assert.equal(s[0]!.severity, 'critical', 'configured per rule');
  assert.equal(s.find((x) => x.subject.startsWith('rule depth'))?.severity, 'medium', 'the default');
  assert.equal(s[0]!.subject, `rule no-prod-writes by ${X} in task t1`);
  assert.equal(s[0]!.evidence.facts.detail, 'write to prod');
});

test('allowed actions and failures that are not policy reasons stay quiet', () => {
  assert.deepEqual(observe([
    actionRow({ agentId: X }),
    actionRow({ agentId: X }, [{ code: 'signature.invalid', link: 0, message: 'bad' }]),
  ]), []);
});

test('policy config: defaults and problems', () => {
  const d = parsePolicyViolationConfig(undefined, '/policy', []);
  assert.equal(d.enabled, true);
  assert.equal(d.severity, 'medium');
  const problems: string[] = [];
  parsePolicyViolationConfig({ severity: 'severe', rules: { 'Bad Rule': 'high', ok: 'nope' } }, '/policy', problems);
  assert.deepEqual(problems, ['/policy/rules: "Bad Rule" is not a rule id', '/policy/rules/ok: must be one of info, low, medium, high, critical', '/policy/severity: must be one of info, low, medium, high, critical']);
});
