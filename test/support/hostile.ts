/**
 * Hostile spans for poison-isolation tests: values a store cannot take as
 * sent, or that once failed a whole INSERT, each as an OTLP span object that
 * can go into a JSON or protobuf export request.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { ExportTraceServiceRequest } from '../../src/ingest/otlp/schema.js';

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');
const NOW_NS = BigInt(Date.now()) * 1_000_000n;
const U64_MAX = '18446744073709551615';

/** What should become of a hostile span. */
export type Expectation =
  /** stored, verdict failed with span.time_out_of_range */
  | 'flagged'
  /** stored as is or repaired, verdict not affected by the repair */
  | 'stored'
  /** refused by the store (a constraint the test adds), quarantined or dead-lettered */
  | 'refused';

export interface HostileCase {
  name: string;
  expect: Expectation;
  /** Only in the JSON encoding (values protobuf cannot carry, such as lone surrogates or a negative kind). */
  jsonOnly?: boolean;
  span: Record<string, unknown>;
}

/** The span name that the test constraint refuses: stands for any value the store refuses after decoding. */
export const REFUSED_NAME = 'poison-by-constraint';

/** The constraint a test adds to the actions table so that spans named REFUSED_NAME are refused by the store. */
export function refusingConstraint(database: string): string {
  return `ALTER TABLE ${database}.actions ADD CONSTRAINT refuse_poison CHECK name != '${REFUSED_NAME}'`;
}

const str = (v: string) => ({ stringValue: v });

/** The hostile cases; `n` makes their ids unique per call. */
export function hostileCases(taskId: string, n: number): HostileCase[] {
  const base = (i: number, over: Record<string, unknown> = {}): Record<string, unknown> => ({
    traceId: hex(0xbad, 16) + hex(n, 12) + hex(i, 4),
    spanId: hex(n, 12) + hex(i, 4),
    name: `hostile-${i}`,
    kind: 1,
    startTimeUnixNano: String(NOW_NS),
    endTimeUnixNano: String(NOW_NS + 1000n),
    attributes: [{ key: 'chainsight.task.id', value: str(taskId) }],
    status: {},
    ...over,
  });
  const attrs = (...extra: unknown[]) => [{ key: 'chainsight.task.id', value: str(taskId) }, ...extra];
  let nested: unknown = str('leaf');
  for (let d = 0; d < 24; d++) nested = { kvlistValue: { values: [{ key: `d${d}`, value: nested }] } };
  return [
    { name: 'start 2^64-1 ns', expect: 'flagged', span: base(1, { startTimeUnixNano: U64_MAX }) },
    { name: 'start in 2300', expect: 'flagged', span: base(2, { startTimeUnixNano: '10413792000000000000', endTimeUnixNano: '10413792000000001000' }) },
    { name: 'end before start', expect: 'flagged', span: base(3, { endTimeUnixNano: String(NOW_NS - 10_000_000_000n) }) },
    { name: 'end 2^64-1 ns', expect: 'flagged', span: base(4, { endTimeUnixNano: U64_MAX }) },
    { name: 'just past 2^63 ns', expect: 'flagged', span: base(5, { startTimeUnixNano: '9223372036854775808', endTimeUnixNano: '9223372036854775808' }) },
    { name: 'kind 99, status 7', expect: 'stored', span: base(6, { kind: 99, status: { code: 7 } }) },
    { name: 'negative kind', expect: 'stored', jsonOnly: true, span: base(7, { kind: -1 }) },
    { name: 'kind 1e300', expect: 'stored', jsonOnly: true, span: base(8, { kind: 1e300 }) },
    { name: 'lone surrogates and NUL in text', expect: 'stored', jsonOnly: true, span: base(9, { name: 'x\ud800y\u0000', attributes: attrs({ key: 'k\udfff', value: str('v\ud800') }, { key: 'gen_ai.agent.id', value: str('\udc00') }) }) },
    { name: 'spoofed chainsight.ingest.* attribute', expect: 'stored', span: base(10, { attributes: attrs({ key: 'chainsight.ingest.raw_start_time_unix_nano', value: str('1') }) }) },
    { name: 'hundreds of attributes, huge values', expect: 'stored', span: base(11, { attributes: attrs(...Array.from({ length: 400 }, (_, i) => ({ key: `a${i}`, value: str('z'.repeat(i < 3 ? 100_000 : 500)) }))) }) },
    { name: 'int beyond 2^63, NaN and Infinity doubles', expect: 'stored', jsonOnly: true, span: base(12, { attributes: attrs({ key: 'big', value: { intValue: '99999999999999999999999' } }, { key: 'nan', value: { doubleValue: 'NaN' } }, { key: 'inf', value: { doubleValue: 'Infinity' } }) }) },
    { name: 'kvlist nested 24 deep', expect: 'stored', span: base(13, { attributes: attrs({ key: 'deep', value: nested }) }) },
    { name: 'time 0', expect: 'stored', span: base(14, { startTimeUnixNano: '0', endTimeUnixNano: '0' }) },
    { name: 'refused by the store', expect: 'refused', span: base(15, { name: REFUSED_NAME }) },
  ];
}

/** One export request with these spans. */
function request(spans: Record<string, unknown>[]) {
  return { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: str('hostile') }] }, scopeSpans: [{ spans }] }] };
}

export function jsonBody(spans: Record<string, unknown>[]): Buffer {
  return Buffer.from(JSON.stringify(request(spans)));
}

export function protobufBody(spans: Record<string, unknown>[]): Buffer {
  const bytes = (id: unknown) => Buffer.from(String(id), 'hex');
  const pb = spans.map((s) => ({ ...s, traceId: bytes(s.traceId), spanId: bytes(s.spanId) }));
  return Buffer.from(ExportTraceServiceRequest.encode(ExportTraceServiceRequest.fromObject(request(pb))).finish());
}

/** What the poison tests check on a stored action. */
export interface StoredRow {
  span_id: string;
  verdict: string;
  reasons: string[];
  attributes: Record<string, string>;
}

/** A task's rows as stored (raw attributes included, which the query API does not return), by span id. */
export async function storedRows(client: ClickHouseClient, database: string, taskId: string): Promise<Map<string, StoredRow>> {
  const rs = await client.query({
    query: `SELECT span_id, verdict, reasons, attributes FROM ${database}.actions WHERE task_id = {t:String}`,
    query_params: { t: taskId },
    format: 'JSONEachRow',
  });
  return new Map((await rs.json<StoredRow>()).map((r) => [r.span_id, r]));
}
