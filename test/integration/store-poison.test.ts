/**
 * Poison isolation in the store, against chdb: the error classifier on the
 * errors chdb really raises, and the batch writer splitting around rows the
 * store refuses while every other caller of the same INSERT is stored.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from '@clickhouse/client';
import { openTestStore, type TestStore } from '../support/store.js';
import { makeSpan } from '../support/spans.js';
import { BatchWriter, rowHint } from '../../src/store/writer.js';
import { StoreError, classifyStoreError } from '../../src/store/errors.js';
import { findQuarantined, toQuarantineRow, type QuarantineRow } from '../../src/store/quarantine.js';
import { toActionRow } from '../../src/correlate/correlate.js';
import { nsToDateTime64 } from '../../src/correlate/time.js';
import type { ActionRow } from '../../src/correlate/rows.js';
import { VERIFIED } from '../../src/model/verdict.js';

let store: TestStore;
let table: string;

before(async () => {
  store = await openTestStore();
  table = `${store.config.database}.actions`;
});
after(async () => store.close());

const row = (over: Partial<ActionRow> = {}, taskId = 'task-poison'): ActionRow => ({ ...toActionRow(makeSpan({ taskId }), VERIFIED, null, '', Date.now()), ...over });

/** What the store raises for one row, classified. */
async function refusalOf(r: ActionRow): Promise<StoreError> {
  try {
    await store.writer.insert({ table, values: [r], format: 'JSONEachRow' });
  } catch (err) {
    return classifyStoreError(err);
  }
  assert.fail('the store accepted the row');
}

async function count(taskId: string): Promise<number> {
  const rs = await store.reader.query({ query: `SELECT count() AS n FROM ${table} WHERE task_id = {t:String}`, query_params: { t: taskId }, format: 'JSONEachRow' });
  return Number((await rs.json<{ n: string }>())[0]?.n);
}

/** Rows chdb refuses, each as the writer would send it if decoding had not repaired it. */
const HOSTILE: Record<string, { over: Partial<ActionRow>; code: string }> = {
  'start in 2300 (past DateTime64(9))': { over: { ts: '2300-01-01 00:00:00.000000000' }, code: 'DECIMAL_OVERFLOW' },
  'start 2^64-1 ns': { over: { ts: '18446744073709551615' }, code: 'CANNOT_PARSE_INPUT_ASSERTION_FAILED' },
  '19 digits past 2^63': { over: { ts: '9300000000000000000' }, code: 'DECIMAL_OVERFLOW' },
  '18-digit time': { over: { ts: '999999999999999999' }, code: 'CANNOT_PARSE_DATETIME' },
  'negative kind': { over: { kind: -1 }, code: 'CANNOT_PARSE_NUMBER' },
};

test('classifier: what chdb raises for hostile rows is permanent', async () => {
  for (const [name, { over, code }] of Object.entries(HOSTILE)) {
    const e = await refusalOf(row(over));
    assert.equal(e.code, code, name);
    assert.equal(e.permanent, true, `${name}: ${e.message}`);
  }
});

/** The classified error a promise rejects with (undefined when it resolves). */
async function classified(p: Promise<unknown>): Promise<StoreError | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return classifyStoreError(err);
  }
}

test('classifier: a missing table and an unreachable server are transient', async () => {
  const missing = await classified(store.writer.insert({ table: `${store.config.database}.no_such_table`, values: [row()], format: 'JSONEachRow' }));
  assert.equal(missing?.code, 'UNKNOWN_TABLE');
  assert.equal(missing?.permanent, false);
  const down = createClient({ url: 'http://127.0.0.1:1', request_timeout: 2000, log: { level: 127 as never } });
  const refused = await classified(down.insert({ table: 'x.y', values: [{}], format: 'JSONEachRow' }));
  await down.close();
  assert.equal(refused?.code, 'ECONNREFUSED');
  assert.equal(refused?.permanent, false);
});

test('classifier: TOO_MANY_PARTS is transient unless it is about one INSERT spanning too many partitions', () => {
  const merges = Object.assign(new Error('Too many parts (300) in all partitions in total in table x. Merges are processing significantly slower than inserts'), { code: '252', type: 'TOO_MANY_PARTS' });
  assert.equal(classifyStoreError(merges).permanent, false);
  const partitions = Object.assign(new Error('Too many partitions for single INSERT block (more than 100).'), { code: '252', type: 'TOO_MANY_PARTS' });
  assert.equal(classifyStoreError(partitions).permanent, true);
  assert.equal(classifyStoreError(Object.assign(new Error('x'), { code: '241', type: 'MEMORY_LIMIT_EXCEEDED' })).permanent, false);
  assert.equal(classifyStoreError(Object.assign(new Error('x'), { code: '41' })).code, 'CANNOT_PARSE_DATETIME');
  assert.equal(classifyStoreError(new Error('socket hang up')).permanent, false);
});

test('the writer stores every good row of a shared INSERT and hands each caller its own refused rows', async () => {
  const writer = new BatchWriter<ActionRow>(store.writer, table, { maxRows: 100_000, maxDelayMs: 20 });
  const callers = Array.from({ length: 6 }, (_, c) => Array.from({ length: 50 }, () => row({}, `task-shared-${c}`)));
  // Callers 1 and 4 carry poison at known positions; the others are clean.
  callers[1]![7] = row({ ts: '2300-01-01 00:00:00.000000000' }, 'task-shared-1');
  callers[4]![0] = row({ kind: -1 }, 'task-shared-4');
  callers[4]![49] = row({ ts: '18446744073709551615' }, 'task-shared-4');
  const results = await Promise.all(callers.map((rows) => writer.write(rows)));
  assert.deepEqual(results.map((r) => r.map((x) => x.index)), [[], [7], [], [], [0, 49], []]);
  assert.equal(results[4]![0]!.error.code, 'CANNOT_PARSE_NUMBER');
  assert.equal(results[4]![0]!.row, callers[4]![0]);
  for (let c = 0; c < 6; c++) assert.equal(await count(`task-shared-${c}`), 50 - results[c]!.length, `caller ${c}`);
  await writer.close();
});

test('many bad rows, with and without a row named in the error, are each isolated; the named row costs a few INSERTs, not a bisection', async () => {
  for (const [what, bad] of [['named row (CANNOT_PARSE_NUMBER)', { kind: -1 }], ['no row named (DECIMAL_OVERFLOW)', { ts: '2300-01-01 00:00:00.000000000' }]] as const) {
    let inserts = 0;
    const writer = new BatchWriter<ActionRow>(store.writer, table, { maxRows: 100_000, maxDelayMs: 0, onFlush: () => void inserts++ });
    const task = `task-many-${'kind' in bad ? 'named' : 'unnamed'}`;
    const rows = Array.from({ length: 2000 }, () => row({}, task));
    const positions = Array.from({ length: 16 }, (_, i) => i * 125 + 7);
    for (const p of positions) rows[p] = row(bad, task);
    const refused = await writer.write(rows);
    assert.deepEqual(refused.map((r) => r.index), positions, what);
    assert.equal(await count(task), 2000 - 16, what);
    if ('kind' in bad) assert.ok(inserts <= 2 * 16 + 1, `${what}: ${inserts} INSERTs`);
  }
});

test('rowHint reads the 1-based row ClickHouse names, only within the INSERT', () => {
  assert.equal(rowHint('Unsigned type must not contain ... (at row 3851)\n: While executing', 5000), 3850);
  assert.equal(rowHint('... (at row 3851)', 100), undefined);
  assert.equal(rowHint('... (at row 0)', 100), undefined);
  assert.equal(rowHint('Decimal math overflow', 100), undefined);
});

test('a batch over more partitions than one INSERT may touch is split, and all of it stored', async () => {
  const writer = new BatchWriter<ActionRow>(store.writer, table, { maxRows: 100_000, maxDelayMs: 0 });
  const months = Array.from({ length: 150 }, (_, i) => row({ ts: nsToDateTime64(`${Date.UTC(2002 + Math.floor(i / 12), i % 12, 5)}000000`) }, 'task-months'));
  assert.deepEqual(await writer.write(months), []);
  assert.equal(await count('task-months'), 150);
});

test('a transient failure rejects every caller with a transient StoreError, and nothing is refused', async () => {
  const writer = new BatchWriter<ActionRow>(store.writer, `${store.config.database}.no_such_table`, { maxRows: 1000, maxDelayMs: 5 });
  const outcomes = await Promise.allSettled([writer.write([row()]), writer.write([row({ kind: -1 })])]);
  for (const o of outcomes) {
    assert.equal(o.status, 'rejected');
    assert.ok((o as PromiseRejectedResult).reason instanceof StoreError);
    assert.equal((o as PromiseRejectedResult).reason.permanent, false);
  }
});

test('text the JSON decoder lets through (lone surrogates, NUL) is stored, not refused', async () => {
  const writer = new BatchWriter<ActionRow>(store.writer, table, { maxRows: 1000, maxDelayMs: 0 });
  const refused = await writer.write([row({ name: 'a\ud800b', attributes: { 'k\udfff': 'v\u0000x' } }, 'task-text'), row({ purpose: '\udc00' }, 'task-text')]);
  assert.deepEqual(refused, []);
  assert.equal(await count('task-text'), 2);
});

test('refused rows are quarantined with their error and found by trace, task and time', async () => {
  const actions = new BatchWriter<ActionRow>(store.writer, table, { maxRows: 1000, maxDelayMs: 0 });
  const quarantine = new BatchWriter<QuarantineRow>(store.writer, `${store.config.database}.quarantine`, { maxRows: 1000, maxDelayMs: 0 });
  const bad = row({ ts: '2300-01-01 00:00:00.000000000', trace_id: 'ab'.repeat(16) }, 'task-quarantined');
  const [refusal] = await actions.write([row({}, 'task-quarantined'), bad]);
  assert.ok(refusal);
  const since = Date.now() - 1000;
  assert.deepEqual(await quarantine.write([toQuarantineRow({ kind: 'actions', row: refusal.row, error: refusal.error }, 'otlp_http', Date.now())]), []);
  const [found] = await findQuarantined(store.reader, store.config.database, { traceId: 'ab'.repeat(16) });
  assert.ok(found);
  assert.equal(found.table_name, 'actions');
  assert.equal(found.error_code, 'DECIMAL_OVERFLOW');
  assert.equal(found.task_id, 'task-quarantined');
  assert.equal(found.span_id, bad.span_id);
  assert.deepEqual(JSON.parse(found.row), bad);
  assert.equal((await findQuarantined(store.reader, store.config.database, { taskId: 'task-quarantined', fromMs: since })).length, 1);
  assert.equal((await findQuarantined(store.reader, store.config.database, { taskId: 'task-quarantined', toMs: since })).length, 0);
  assert.equal((await findQuarantined(store.reader, store.config.database, { taskId: "x' OR 1=1 --" })).length, 0);
});
