import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CROSS_AGENT_DEFAULTS, parseCrossAgentConfig, type CrossAgentConfig } from '../../src/detect/cross-agent/config.js';
import { crossTaskSignal, ignored, manyAgentsSignal, tenantOf, tsMs, windowStart, type ResourceTouch } from '../../src/detect/cross-agent/resource-rules.js';
import { rateSpikeSignal } from '../../src/detect/cross-agent/rate-rules.js';
import { ResourceWindows, resourceKey, touchOf } from '../../src/detect/cross-agent/resource-windows.js';
import { createCrossAgentStream } from '../../src/detect/cross-agent/detector.js';
import { alertId } from '../../src/detect/alert.js';
import { nsToDateTime64 } from '../../src/correlate/time.js';
import { actionRow } from '../support/detect-rows.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 29, 12, 0, 0);
const agent = (i: number, td = 'acme.example') => `spiffe://${td}/agent/worker/w-${i}`;
const RES = 'arn:aws:s3:::payroll-exports';

function touch(over: Partial<ResourceTouch> = {}): ResourceTouch {
  return { tenant: 'acme.example', resource: RES, windowStartMs: T0, agentCount: 1, chainCount: 1, humanCount: 1, agents: [agent(1)], chains: ['c1'], humans: ['alice@acme.example'], tasks: ['t1'], spanIds: ['s1'], traceIds: ['tr1'], lastMs: T0 + 1000, ...over };
}
const cfg = (over: (c: CrossAgentConfig) => void = () => {}): CrossAgentConfig => {
  const c = structuredClone(CROSS_AGENT_DEFAULTS) as CrossAgentConfig;
  over(c);
  return c;
};

test('windows are tumbling and aligned to the epoch; spans times read as the store reads them', () => {
  assert.equal(windowStart(T0 + 4 * MIN + 59_999, 5 * MIN), T0);
  assert.equal(windowStart(T0 + 5 * MIN, 5 * MIN), T0 + 5 * MIN);
  assert.equal(tsMs(nsToDateTime64(`${T0 + 1234}000000`)), T0 + 1234);
  assert.equal(tsMs(nsToDateTime64(`${T0 + 1234}999999`)), T0 + 1234, 'floored, like toUnixTimestamp64Milli');
  assert.equal(tsMs('2026-11-29 12:00:01.500000000'), T0 + 1500);
  assert.equal(tenantOf('spiffe://acme.example/agent/x/1'), 'acme.example');
  assert.equal(tenantOf('alice@acme.example'), '');
});

test('many agents: at the agent threshold or the chain threshold, not below; ignored resources stay quiet', () => {
  const c = cfg().manyAgents;
  assert.equal(manyAgentsSignal(touch({ agentCount: 4, chainCount: 4 }), c), undefined);
  const s = manyAgentsSignal(touch({ agentCount: 5, chainCount: 5 }), c);
  assert.equal(s?.kind, 'resource.many_agents');
  assert.equal(s?.subject, RES);
  assert.equal(s?.windowStartMs, T0);
  assert.equal(s?.eventKey, `window:${T0}`);
  assert.match(s!.summary, /touched by 5 distinct agents in 5 chains within 5 min/);
  assert.equal(manyAgentsSignal(touch({ agentCount: 2, chainCount: 20 }), c)?.kind, 'resource.many_agents', 'one agent pair over 20 chains');
  assert.equal(manyAgentsSignal(touch({ agentCount: 2, chainCount: 20 }), { ...c, minChains: 0 }), undefined, 'chains not counted when min_chains is 0');
  assert.equal(manyAgentsSignal(touch({ agentCount: 9 }), { ...c, ignoreResources: ['arn:aws:s3:::payroll-*'] }), undefined);
  assert.ok(ignored('wiki/INFRA', ['wiki/INFRA']) && !ignored('wiki/INFRA2', ['wiki/INFRA']));
});

test('cross task: two root humans on one resource raise, one does not', () => {
  const c = cfg().crossTask;
  assert.equal(crossTaskSignal(touch({ humanCount: 1 }), c), undefined);
  const s = crossTaskSignal(touch({ humanCount: 2, humans: ['alice@acme.example', 'mallory@acme.example'], tasks: ['t1', 't2'] }), c);
  assert.equal(s?.kind, 'resource.cross_task');
  assert.equal(s?.severity, 'high');
  assert.equal(s?.human, '');
  assert.deepEqual(s?.evidence.facts.humans, ['alice@acme.example', 'mallory@acme.example']);
});

test('rate spike: above factor × the usual busiest and the floor, with enough history; not otherwise', () => {
  const c = cfg().rateSpike;
  const count = (n: number) => ({ agent: agent(1), windowStartMs: T0, count: n, lastMs: T0 + 1, spanIds: ['s1'] });
  const usual = { p95: 40, busyWindows: 200 };
  assert.equal(rateSpikeSignal(count(201), usual, c)?.kind, 'agent.rate_spike');
  assert.match(rateSpikeSignal(count(400), usual, c)!.summary, /400 actions in 5 min, 10× its usual busiest \(p95 40/);
  assert.equal(rateSpikeSignal(count(200), usual, c), undefined, 'exactly 5× is not above it');
  assert.equal(rateSpikeSignal(count(99), { p95: 2, busyWindows: 200 }, c), undefined, 'under the floor');
  assert.equal(rateSpikeSignal(count(500), { p95: 40, busyWindows: 11 }, c), undefined, 'too little history');
  assert.equal(rateSpikeSignal(count(500), undefined, c), undefined, 'no history');
  assert.equal(rateSpikeSignal(count(500), usual, c)?.tenant, 'acme.example');
});

test('windows in memory: distinct values bounded, resources bounded, old windows forgotten', () => {
  const w = new ResourceWindows(5 * MIN, ['agents'], { maxResources: 2, maxDistinct: 3 });
  const t = (i: number, resource = RES, atMs = T0 + i) => ({ key: resourceKey('acme.example', resource), tenant: 'acme.example', resource, atMs, agent: agent(i), chain: `c${i}`, human: 'h', task: `t${i}`, spanId: `s${i}`, traceId: 'tr' });
  for (let i = 0; i < 10; i++) w.add(t(i));
  const e = w.add(t(10))!;
  assert.equal(touchOf(e).agentCount, 3);
  e.settled = true;
  assert.equal(touchOf(w.add(t(11))!).agentCount, 3, 'a settled window counts nothing more');
  assert.equal(touchOf(e).traceIds.length, 1);
  assert.ok(w.add(t(1, 'r2')));
  assert.equal(w.add(t(1, 'r3')), undefined, 'a third resource in the window is left to the store');
  assert.ok(w.add(t(1, 'r3', T0 + 5 * MIN)), 'the next window has room');
  w.forgetBefore(T0 + 10 * MIN);
  assert.equal(w.size, 0);
});

test('the streaming half raises each resource alert once per window, as soon as a batch crosses the threshold', () => {
  const c = cfg((x) => { x.manyAgents.minAgents = 3; });
  const stream = createCrossAgentStream(c);
  const row = (i: number, human = 'alice@acme.example', atMs = T0 + i * 1000) => actionRow({ agent_id: agent(i), resource: RES, chain_hash: `c${i}`, root_human: human, atMs, task_id: `task-${human}` });
  const nowMs = T0 + 60_000;
  assert.deepEqual(stream.observe({ nowMs, actions: [row(1), row(2)], delegations: [] }).signals, []);
  const out = stream.observe({ nowMs, actions: [row(3), row(4)], delegations: [] }).signals;
  assert.deepEqual(out.map((s) => s.kind), ['resource.many_agents']);
  assert.equal(out[0]!.evidence.facts.agents, 3);
  assert.deepEqual(stream.observe({ nowMs, actions: [row(5)], delegations: [] }).signals, [], 'the same window raises once');
  const cross = stream.observe({ nowMs, actions: [row(6, 'mallory@acme.example')], delegations: [] }).signals;
  assert.deepEqual(cross.map((s) => s.kind), ['resource.cross_task']);
  // Failed actions, resource-less actions and other tenants do not count towards acme's resource.
  const quiet = createCrossAgentStream(c);
  const noise = [actionRow({ agent_id: agent(1), resource: RES, verdict: 'failed', atMs: T0 }), actionRow({ agent_id: agent(2), resource: '', atMs: T0 }), actionRow({ agent_id: agent(3, 'globex.example'), resource: RES, atMs: T0 }), row(4)];
  assert.deepEqual(quiet.observe({ nowMs, actions: noise, delegations: [] }).signals, []);
  // Identity: the alert id depends on the window, not on which batch crossed the threshold.
  assert.equal(alertId(out[0]!), alertId({ kind: 'resource.many_agents', tenant: 'acme.example', subject: RES, windowStartMs: T0 }));
});

test('normal traffic stays quiet: several agents of one task per resource, below the threshold, window after window', () => {
  const stream = createCrossAgentStream(cfg());
  for (let w = 0; w < 12; w++) {
    const rows = [];
    for (let i = 0; i < 4; i++) rows.push(actionRow({ agent_id: agent(i), resource: RES, chain_hash: `c${i}`, root_human: 'alice@acme.example', atMs: T0 + w * 5 * MIN + i * 1000 }));
    assert.deepEqual(stream.observe({ nowMs: T0 + w * 5 * MIN + 5000, actions: rows, delegations: [] }).signals, [], `window ${w}`);
  }
});

test('config: defaults, values, and every bad value reported with its place', () => {
  const problems: string[] = [];
  assert.deepEqual(parseCrossAgentConfig(undefined, '/cross_agent', problems), CROSS_AGENT_DEFAULTS);
  const c = parseCrossAgentConfig({ interval_sec: 2, many_agents: { window_sec: 10, min_agents: 3, ignore_resources: ['wiki/*'] }, cross_task: { enabled: false }, rate_spike: { window_sec: 1, baseline_sec: 60, factor: 2.5, floor: 10, min_history: 5, severity: 'high' } }, '/cross_agent', problems);
  assert.deepEqual(problems, []);
  assert.equal(c.intervalMs, 2000);
  assert.deepEqual([c.manyAgents.windowMs, c.manyAgents.minAgents, c.manyAgents.ignoreResources], [10_000, 3, ['wiki/*']]);
  assert.equal(c.crossTask.enabled, false);
  assert.deepEqual([c.rateSpike.windowMs, c.rateSpike.baselineMs, c.rateSpike.factor, c.rateSpike.floor, c.rateSpike.minHistory, c.rateSpike.severity], [1000, 60_000, 2.5, 10, 5, 'high']);
  assert.equal(parseCrossAgentConfig({ stream: false }, '/cross_agent', problems).stream, false);
  const off = parseCrossAgentConfig({ enabled: false }, '/cross_agent', problems);
  assert.deepEqual([off.manyAgents.enabled, off.crossTask.enabled, off.rateSpike.enabled], [false, false, false], 'the section switch turns every rule off');
  parseCrossAgentConfig({ many_agents: { min_agents: 1, typo: 1 }, cross_task: { severity: 'urgent' }, rate_spike: { factor: 0.5, baseline_sec: 600, window_sec: 300 } }, '/cross_agent', problems);
  assert.deepEqual(problems.map((p) => p.split(':')[0]).sort(), ['/cross_agent/cross_task/severity', '/cross_agent/many_agents/min_agents', '/cross_agent/many_agents/typo', '/cross_agent/rate_spike/baseline_sec', '/cross_agent/rate_spike/factor']);
});
