import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Processor, type BatchSummary } from '../../src/pipeline/processor.js';
import { SinkRegistry, type Sink } from '../../src/pipeline/sinks.js';
import { rowKind, SpanBatch, type Stage } from '../../src/pipeline/stage.js';
import { VerifyStage, type VerifyFn } from '../../src/pipeline/verify-stage.js';
import { ACTIONS, ActionsStage, DELEGATIONS, DelegationsStage } from '../../src/correlate/stages.js';
import type { ActionRow, DelegationRow } from '../../src/correlate/rows.js';
import { VERIFIED } from '../../src/model/verdict.js';
import { StoreError, type RefusedRow } from '../../src/store/errors.js';
import type { SpanDetail } from '../../src/verify/index.js';
import { makeSpan } from '../support/spans.js';

const verified: SpanDetail = { verdict: VERIFIED, summary: null, chainHash: '', check: null, cacheHit: true };
const verifySync: VerifyFn = () => verified;

/** A sink keeping what it was given; refuses rows `refuse` picks, fails everything while `down`. */
class MemorySink<Row> implements Sink<Row> {
  rows: Row[] = [];
  down = false;
  closed = false;
  constructor(private readonly refuse: (row: Row) => boolean = () => false) {}
  async write(rows: Row[]): Promise<RefusedRow<Row>[]> {
    if (this.down) throw new StoreError('store down', false, 'ECONNREFUSED');
    const refused: RefusedRow<Row>[] = [];
    rows.forEach((row, index) => {
      if (this.refuse(row)) refused.push({ row, index, error: new StoreError('bad value', true, 'DECIMAL_OVERFLOW') });
      else this.rows.push(row);
    });
    return refused;
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A policy stage as the coming one will be: adds a reason to spans it disallows. */
const policy: Stage = {
  name: 'policy',
  process(batch: SpanBatch) {
    batch.spans.forEach((s, i) => {
      if (s.toolName === 'rm -rf') batch.addReason(i, { code: 'scope.exceeded', message: 'policy: destructive tool' });
    });
  },
};

interface Alert {
  span_id: string;
  rule: string;
}
const ALERTS = rowKind<Alert>('alerts');
/** A detection stage: reads the action rows and emits its own. */
const detect: Stage = {
  name: 'detect',
  process(batch: SpanBatch) {
    for (const a of batch.rows(ACTIONS)) if (a.verdict === 'failed') batch.emit(ALERTS, { span_id: a.span_id, rule: 'failed-action' });
  },
};

function wired(stages: Stage[], sinks: { actions?: MemorySink<ActionRow>; delegations?: MemorySink<DelegationRow>; alerts?: MemorySink<Alert>[] } = {}) {
  const registry = new SinkRegistry().register(ACTIONS, sinks.actions ?? new MemorySink()).register(DELEGATIONS, sinks.delegations ?? new MemorySink());
  for (const a of sinks.alerts ?? []) registry.register(ALERTS, a);
  const batches: BatchSummary[] = [];
  return { processor: new Processor(stages, registry, { onBatch: (b) => batches.push(b) }), registry, batches };
}

describe('processor stages', () => {
  it('a policy stage between verify and correlate fails the verdict before rows are built; a detection stage emits rows to fanned-out sinks', async () => {
    const actions = new MemorySink<ActionRow>();
    const alertsA = new MemorySink<Alert>();
    const alertsB = new MemorySink<Alert>();
    const { processor, batches } = wired([new VerifyStage(verifySync), policy, new ActionsStage(), new DelegationsStage(), detect], { actions, alerts: [alertsA, alertsB] });
    const spans = [makeSpan({ toolName: 'ls' }), makeSpan({ toolName: 'rm -rf' })];
    const result = await processor.ingest(spans);
    assert.deepEqual(result, { accepted: 2, rejected: 0, errors: [] });
    assert.deepEqual(actions.rows.map((r) => [r.verdict, r.reasons]), [['verified', []], ['failed', ['scope.exceeded']]]);
    assert.deepEqual(alertsA.rows, [{ span_id: spans[1]!.spanId, rule: 'failed-action' }]);
    assert.deepEqual(alertsB.rows, alertsA.rows);
    assert.equal(batches[0]!.failed, 1);
    assert.deepEqual([...batches[0]!.reasons], [['scope.exceeded', 1]]);
  });

  it('without a policy stage the same span is verified (the stage, not the processor, decided)', async () => {
    const actions = new MemorySink<ActionRow>();
    await wired([new VerifyStage(verifySync), new ActionsStage()], { actions }).processor.ingest([makeSpan({ toolName: 'rm -rf' })]);
    assert.equal(actions.rows[0]!.verdict, 'verified');
  });

  it('stays synchronous when every stage is, and waits for an asynchronous verification when one is not', async () => {
    const { processor } = wired([new VerifyStage(verifySync), new ActionsStage()]);
    assert.ok(processor.process([makeSpan()]) instanceof SpanBatch);
    let calls = 0;
    const verifyAsync: VerifyFn = (s) => (++calls === 2 ? Promise.resolve(verified) : verified);
    const actions = new MemorySink<ActionRow>();
    const slow = wired([new VerifyStage(verifyAsync), new ActionsStage()], { actions }).processor;
    const pending = slow.process([makeSpan(), makeSpan(), makeSpan()]);
    assert.ok(pending instanceof Promise);
    assert.equal((await pending).rows(ACTIONS).length, 3);
  });

  it('issues found at decoding fail the verdict', async () => {
    const actions = new MemorySink<ActionRow>();
    const span = makeSpan({ ingestIssues: [{ code: 'span.time_out_of_range', message: 'start after 2262' }] });
    await wired([new VerifyStage(verifySync), new ActionsStage()], { actions }).processor.ingest([span, makeSpan()]);
    assert.deepEqual(actions.rows.map((r) => r.reasons), [['span.time_out_of_range'], []]);
  });

  it('rows of a kind nobody registered fail the batch instead of vanishing', async () => {
    const { processor } = wired([new VerifyStage(verifySync), new ActionsStage(), detect]);
    const span = makeSpan({ ingestIssues: [{ code: 'span.time_out_of_range', message: 'x' }] });
    await assert.rejects(processor.ingest([span]), /no sink registered for alerts rows/);
  });
});

describe('refusals and outages', () => {
  it('refused rows come back traced to their spans; only per-span kinds count as rejected spans', async () => {
    const actions = new MemorySink<ActionRow>((r) => r.name === 'bad');
    const { processor, batches } = wired([new VerifyStage(verifySync), new ActionsStage()], { actions });
    const spans = [makeSpan(), makeSpan({ name: 'bad' }), makeSpan()];
    const result = await processor.ingest(spans);
    assert.equal(result.accepted, 2);
    assert.equal(result.rejected, 1);
    assert.equal(result.refused?.[0]?.spanIndex, 1);
    assert.equal(result.refused?.[0]?.kind, 'actions');
    assert.match(result.errors[0]!, new RegExp(`1 span refused by the store \\(DECIMAL_OVERFLOW\\): ${spans[1]!.traceId}/${spans[1]!.spanId}`));
    assert.equal(actions.rows.length, 2);
    assert.equal(batches[0]!.refused, 1);
  });

  it('an outage rejects, and stored() is not called, so delegation links are written again on retry', async () => {
    let storedCalls = 0;
    const watcher: Stage = { name: 'watch', process() {}, stored: () => void storedCalls++ };
    const actions = new MemorySink<ActionRow>();
    actions.down = true;
    const { processor } = wired([new VerifyStage(verifySync), new ActionsStage(), watcher], { actions });
    await assert.rejects(processor.ingest([makeSpan()]), (e: StoreError) => e.permanent === false);
    assert.equal(storedCalls, 0);
    actions.down = false;
    await processor.ingest([makeSpan()]);
    assert.equal(storedCalls, 1);
  });

  it('a stage failing on one span sets that span aside (refused, STAGE_FAILED) and stores the others', async () => {
    const fragile: Stage = {
      name: 'fragile',
      process(batch: SpanBatch) {
        for (const s of batch.spans) if (s.name === 'boom') throw new TypeError('cannot read properties of undefined');
      },
    };
    const actions = new MemorySink<ActionRow>();
    const { processor } = wired([new VerifyStage(verifySync), fragile, new ActionsStage()], { actions });
    const spans = [makeSpan(), makeSpan({ name: 'boom' }), makeSpan(), makeSpan({ name: 'boom' })];
    const result = await processor.ingest(spans);
    assert.equal(result.accepted, 2);
    assert.equal(result.rejected, 2);
    assert.deepEqual(result.refused?.map((r) => [r.kind, r.spanIndex, r.error.code]), [['spans', 1, 'STAGE_FAILED'], ['spans', 3, 'STAGE_FAILED']]);
    assert.match(result.errors[0]!, /2 spans refused by the pipeline \(STAGE_FAILED\)/);
    assert.deepEqual(actions.rows.map((r) => r.span_id), [spans[0]!.spanId, spans[2]!.spanId]);
  });

  it('a stage failing on every span, or failing transiently, fails the delivery: no span is set aside', async () => {
    const broken: Stage = { name: 'broken', process() { throw new Error('bug'); } };
    await assert.rejects(wired([new VerifyStage(verifySync), broken]).processor.ingest([makeSpan(), makeSpan()]), /bug/);
    let calls = 0;
    const remoteDown: Stage = { name: 'remote', process() { calls++; throw new StoreError('policy engine unreachable', false, 'ECONNREFUSED'); } };
    await assert.rejects(wired([new VerifyStage(verifySync), remoteDown]).processor.ingest([makeSpan(), makeSpan()]), /unreachable/);
    assert.equal(calls, 1, 'not retried span by span');
  });

  it('close() closes every sink once', async () => {
    const a = new MemorySink<Alert>();
    const { registry } = wired([], { alerts: [a, a] });
    await registry.close();
    assert.equal(a.closed, true);
  });
});
