/**
 * The detect stage in a real processor (memory sinks): it runs after
 * correlation, its signals reach the alert sinks, and a detector that throws
 * or emits a malformed signal fails neither the spans nor the other detectors.
 * The scheduler: one evaluation at a time per detector, errors counted, stopped on close.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Processor } from '../../src/pipeline/processor.js';
import { SinkRegistry, type Sink } from '../../src/pipeline/sinks.js';
import { VerifyStage } from '../../src/pipeline/verify-stage.js';
import { ACTIONS, ActionsStage, DELEGATIONS, DelegationsStage } from '../../src/correlate/stages.js';
import { failed } from '../../src/model/verdict.js';
import { DetectStage, type DetectFailure } from '../../src/detect/stage.js';
import { DetectorScheduler } from '../../src/detect/scheduler.js';
import { ALERT_RESOLUTIONS, ALERT_SIGNALS, type AlertResolutionRow, type AlertSignalRow } from '../../src/alert/rows.js';
import type { DetectorContext, StreamingDetector, WindowedDetector } from '../../src/detect/detector.js';
import type { RefusedRow } from '../../src/store/errors.js';
import type { ActionRow, DelegationRow } from '../../src/correlate/rows.js';
import type { SpanDetail } from '../../src/verify/index.js';
import { createLogger } from '../../src/runtime/logger.js';
import { makeSpan } from '../support/spans.js';
import { signal } from '../support/alerts.js';

class MemorySink<Row> implements Sink<Row> {
  rows: Row[] = [];
  async write(rows: Row[]): Promise<RefusedRow<Row>[]> {
    this.rows.push(...rows);
    return [];
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

const denied: SpanDetail = { verdict: failed([{ code: 'agent.mismatch', message: 'not the delegatee' }]), summary: null, chainHash: '', check: null, cacheHit: true };

function processor(detectors: StreamingDetector[], failures: DetectFailure[]) {
  const actions = new MemorySink<ActionRow>();
  const signals = new MemorySink<AlertSignalRow>();
  const resolutions = new MemorySink<AlertResolutionRow>();
  const sinks = new SinkRegistry().register(ACTIONS, actions).register(DELEGATIONS, new MemorySink<DelegationRow>())
    .register(ALERT_SIGNALS, signals).register(ALERT_RESOLUTIONS, resolutions);
  const stages = [new VerifyStage(() => denied), new ActionsStage(), new DelegationsStage(), new DetectStage(detectors, { onError: (f) => failures.push(f) })];
  return { p: new Processor(stages, sinks), actions, signals, resolutions };
}

/** Raises one signal per failed action it sees (it reads the correlated rows). */
const echo: StreamingDetector = {
  name: 'echo',
  observe: ({ actions }) => ({
    signals: actions.filter((a) => a.verdict === 'failed').map((a) => signal({ subject: a.agent_id, eventKey: a.span_id })),
    resolutions: [{ kind: 'policy.violation', tenant: 'a.example', subject: 'old', windowStartMs: 0, reason: 'gone', atMs: 1 }],
  }),
};
const broken: StreamingDetector = { name: 'broken', observe: () => { throw new Error('bug'); } };
const malformed: StreamingDetector = { name: 'malformed', observe: () => ({ signals: [{ ...signal(), subject: undefined as unknown as string }] }) };

test('signals and resolutions of a streaming detector reach their sinks; it sees the final verdicts as action rows', async () => {
  const failures: DetectFailure[] = [];
  const { p, signals, resolutions } = processor([echo], failures);
  const r = await p.ingest([makeSpan(), makeSpan()]);
  assert.equal(r.accepted, 2);
  assert.equal(signals.rows.length, 2);
  assert.equal(signals.rows[0]!.detector, 'echo');
  assert.equal(signals.rows[0]!.alert_id, signals.rows[1]!.alert_id);
  assert.equal(resolutions.rows.length, 1);
  assert.deepEqual(failures, []);
});

test('a detector that throws, or emits a malformed signal, is counted; spans and the other detectors go on', async () => {
  const failures: DetectFailure[] = [];
  const { p, actions, signals } = processor([broken, malformed, echo], failures);
  const r = await p.ingest([makeSpan()]);
  assert.equal(r.accepted, 1);
  assert.equal(r.rejected, 0);
  assert.equal(actions.rows.length, 1, 'the span is stored');
  assert.equal(signals.rows.length, 1, 'the working detector still raised its signal');
  assert.deepEqual(failures.map((f) => `${f.detector}/${f.phase}`), ['broken/observe', 'malformed/observe']);
});

const ctx = { client: undefined, database: 'x', logger: createLogger('silent') } as unknown as DetectorContext;

test('scheduler: one evaluation at a time per detector, failures counted without stopping it, nothing after close', async () => {
  let running = 0;
  let overlapped = false;
  let runs = 0;
  const slow: WindowedDetector = {
    name: 'slow',
    intervalMs: 100,
    async evaluate() {
      runs++;
      running++;
      if (running > 1) overlapped = true;
      await new Promise((r) => setTimeout(r, 250));
      running--;
      if (runs === 2) throw new Error('store down');
      return { signals: [signal({ eventKey: `run-${runs}` })] };
    },
  };
  const delivered: string[] = [];
  const failures: DetectFailure[] = [];
  const s = new DetectorScheduler([slow], ctx, { deliver: async (_n, out) => { delivered.push(out.signals[0]!.eventKey); }, onError: (f) => failures.push(f) });
  s.start();
  while (runs < 3) await new Promise((r) => setTimeout(r, 20));
  await s.close();
  const after = runs;
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(runs, after, 'no evaluation after close');
  assert.equal(overlapped, false);
  assert.deepEqual(failures.map((f) => `${f.detector}/${f.phase}`), ['slow/evaluate']);
  assert.ok(delivered.includes('run-1') && delivered.includes('run-3'), 'it went on after the failure');
});
