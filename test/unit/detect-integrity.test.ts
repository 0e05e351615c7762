/** Detector 5, chain integrity: the pure judges, with anomalies and with normal traffic that must stay quiet. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NotDelegateeDetector } from '../../src/detect/integrity/not-delegatee.js';
import { burstSeverity, burstSignals, type FailureCount } from '../../src/detect/integrity/burst.js';
import { reuseSignals } from '../../src/detect/integrity/link-reuse.js';
import { parseIntegrityConfig } from '../../src/detect/integrity/config.js';
import { alertId } from '../../src/detect/alert.js';
import { actionRow, chainTo } from '../support/alerts.js';

const X = 'spiffe://co.example/agent/x';
const Y = 'spiffe://co.example/agent/y';
const cfg = parseIntegrityConfig({}, '/integrity', []);
const observe = (rows: ReturnType<typeof actionRow>[]) => new NotDelegateeDetector().observe({ nowMs: 0, actions: rows, delegations: [] }).signals;

test('not delegatee: agent.mismatch raises a high alert per presenter and delegatee, one trigger per span', () => {
  const rows = [1, 2].map(() => actionRow({ agentId: X }, [{ code: 'agent.mismatch', message: 'span agent x is not y' }], chainTo(Y)));
  const s = observe(rows);
  assert.equal(s.length, 2);
  assert.equal(s[0]!.kind, 'integrity.not_delegatee');
  assert.equal(s[0]!.severity, 'high');
  assert.equal(s[0]!.tenant, 'co.example');
  assert.equal(s[0]!.subject, `${X} presented the chain of ${Y}`);
  assert.equal(alertId(s[0]!), alertId(s[1]!), 'one alert');
  assert.notEqual(s[0]!.eventKey, s[1]!.eventKey, 'two triggers');
  assert.deepEqual(s[0]!.agents, [X, Y]);
});

test('not delegatee: agent.not_sender is critical and names the proven sender', () => {
  const row = actionRow({ agentId: X, peer: { id: Y, method: 'mtls' } }, [{ code: 'agent.not_sender', message: 'sent by y' }]);
  const [s] = observe([row]);
  assert.equal(s?.severity, 'critical');
  assert.equal(s?.subject, `${Y} sent spans as ${X}`);
});

test('not delegatee: verified spans and other failures stay quiet', () => {
  assert.deepEqual(observe([
    actionRow({ agentId: Y }, [], chainTo(Y)),
    actionRow({ agentId: Y }, [{ code: 'time.expired', link: 1, message: 'expired' }], chainTo(Y)),
    actionRow({ agentId: Y }, [{ code: 'policy.r1', message: 'denied' }], chainTo(Y)),
  ]), []);
});

const count = (over: Partial<FailureCount> = {}): FailureCount => ({ agent: X, reason: 'signature.invalid', windowStartMs: 600_000, failures: 10, lastMs: 650_000, spanIds: ['s1'], tasks: ['t1'], humans: ['h'], ...over });

test('burst: at the threshold an alert per agent, reason and window; below it, and for policy reasons, nothing', () => {
  const [s, ...rest] = burstSignals([count(), count({ failures: 9 }), count({ reason: 'policy.r1', failures: 50 })], cfg.burst);
  assert.deepEqual(rest, []);
  assert.equal(s?.kind, 'integrity.verification_burst');
  assert.equal(s?.windowStartMs, 600_000);
  assert.equal(s?.subject, `signature.invalid from ${X}`);
  assert.equal(s?.eventKey, 'window/600000', 're-evaluating the window updates one trigger');
  assert.equal(s?.evidence.facts.failures, 10);
  const next = burstSignals([count({ windowStartMs: 900_000 })], cfg.burst)[0]!;
  assert.notEqual(alertId(next), alertId(s!), 'another window, another alert');
});

test('burst severity: forgery, replay and revoked use are high; expiry and malformed input medium; configurable', () => {
  assert.equal(burstSeverity('signature.invalid'), 'high');
  assert.equal(burstSeverity('revoked.link'), 'high');
  assert.equal(burstSeverity('agent.mismatch'), 'high');
  assert.equal(burstSeverity('time.expired'), 'medium');
  assert.equal(burstSeverity('token.malformed'), 'medium');
  const crit = parseIntegrityConfig({ burst: { severity: 'critical', min_failures: 3 } }, '/integrity', []);
  assert.equal(burstSignals([count({ reason: 'time.expired', failures: 3 })], crit.burst)[0]?.severity, 'critical');
});

test('link reuse: one jti in several tasks or links raises one alert, a trigger per task and link; a single use is quiet', () => {
  const base = { jti: 'j1', agents: [Y], trustDomain: 'co.example', lastMs: 1 };
  const s = reuseSignals([
    { ...base, links: ['h1'], tasks: ['t1', 't2'] },
    { ...base, jti: 'j2', links: ['h2', 'h3'], tasks: ['t3'] },
    { ...base, jti: 'j3', links: ['h4'], tasks: ['t4'] },
  ], 'high');
  assert.deepEqual(s.map((x) => `${x.subject} ${x.eventKey}`), ['jti j1 task/t1', 'jti j1 task/t2', 'jti j2 link/h2', 'jti j2 link/h3']);
  assert.ok(s.every((x) => x.kind === 'integrity.link_reuse' && x.severity === 'high' && x.tenant === 'co.example'));
  assert.equal(new Set(s.filter((x) => x.subject === 'jti j1').map(alertId)).size, 1);
});

test('integrity config: defaults, overrides, and problems named by pointer', () => {
  assert.equal(cfg.burst.windowSec, 300);
  assert.equal(cfg.burst.minFailures, 10);
  assert.equal(cfg.linkReuse.lookbackSec, 7 * 86_400);
  const off = parseIntegrityConfig({ enabled: false }, '/integrity', []);
  assert.ok(!off.burst.enabled && !off.notDelegatee.enabled && !off.linkReuse.enabled);
  const problems: string[] = [];
  parseIntegrityConfig({ burst: { window_sec: 1, severity: 'urgent' }, link_reuse: 'yes' }, '/integrity', problems);
  assert.deepEqual(problems, [
    '/integrity/link_reuse: must be a mapping',
    '/integrity/burst/window_sec: must be an integer from 10 to 86400',
    '/integrity/burst/severity: must be one of info, low, medium, high, critical',
  ]);
});
