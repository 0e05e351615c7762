/**
 * OTLP/JSON ExportTraceServiceRequest → AgentSpan, per the OTLP/JSON rules:
 * lowerCamelCase field names (the original snake_case names are accepted
 * too, as the protobuf JSON mapping asks of parsers), trace and span ids as
 * hex strings, 64-bit integers as decimal strings or numbers, enums as
 * integers (their names are accepted too), bytes values as base64.
 * Unknown fields are ignored.
 */
import type { AgentSpan } from '../../model/span.js';
import { OtlpDecodeError } from './errors.js';
import { AttributeSink, type ResourceContext, newSpan, resourceContext } from './mapping.js';
import { decimalNanosToMs, jsonNanosToDecimal } from './nanos.js';
import { DecodeState, ZERO_SPAN_ID, idProblem } from './result.js';
import { type AttrValue, KvList } from './values.js';

type Json = Record<string, unknown>;

const MAX_VALUE_DEPTH = 16;
const HEX = /^[0-9a-fA-F]*$/;
const SIGNED_DECIMAL = /^-?[0-9]{1,19}$/;

const SPAN_KINDS: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};
const STATUS_CODES: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

/** Decodes a JSON body into state; throws OtlpDecodeError or LimitError. */
export function decodeJsonRequest(body: Uint8Array, state: DecodeState): void {
  let text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new OtlpDecodeError(`body is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!isObject(doc)) throw new OtlpDecodeError('body is not a JSON object (ExportTraceServiceRequest)');
  const sink = new AttributeSink(state.limits);
  for (const rs of list(field(doc, 'resourceSpans', 'resource_spans'), 'resourceSpans')) {
    if (!isObject(rs)) throw new OtlpDecodeError('resourceSpans entries must be objects');
    const resource = field(rs, 'resource', 'resource');
    const ctx = resourceContext(
      isObject(resource) ? keyValues(field(resource, 'attributes', 'attributes'), 0) : [],
      state.limits,
    );
    for (const ss of list(field(rs, 'scopeSpans', 'scope_spans'), 'scopeSpans')) {
      if (!isObject(ss)) throw new OtlpDecodeError('scopeSpans entries must be objects');
      for (const sp of list(field(ss, 'spans', 'spans'), 'spans')) {
        state.countSpan();
        if (isObject(sp)) span(sp, ctx, state, sink);
        else state.reject('span is not a JSON object');
      }
    }
  }
}

function span(o: Json, ctx: ResourceContext, state: DecodeState, sink: AttributeSink): void {
  const s: AgentSpan = newSpan(ctx);
  sink.reset();
  s.traceId = hexId(field(o, 'traceId', 'trace_id'), 32);
  s.spanId = hexId(field(o, 'spanId', 'span_id'), 16);
  const parent = hexId(field(o, 'parentSpanId', 'parent_span_id'), 16);
  s.parentSpanId = parent === ZERO_SPAN_ID ? '' : parent;
  const name = o.name;
  s.name = typeof name === 'string' ? name : '';
  s.kind = enumValue(o.kind, SPAN_KINDS);
  const start = jsonNanosToDecimal(field(o, 'startTimeUnixNano', 'start_time_unix_nano'));
  if (start !== null) {
    s.startNs = start;
    s.startMs = decimalNanosToMs(start);
  }
  const end = jsonNanosToDecimal(field(o, 'endTimeUnixNano', 'end_time_unix_nano'));
  if (end !== null) {
    s.endNs = end;
    s.endMs = decimalNanosToMs(end);
  }
  const status = o.status;
  if (isObject(status)) s.statusCode = enumValue(status.code, STATUS_CODES);
  const attributes = o.attributes;
  if (Array.isArray(attributes)) {
    for (const kv of attributes) {
      if (!isObject(kv) || typeof kv.key !== 'string') continue;
      sink.apply(s, kv.key, anyValue(kv.value, 0));
    }
  }
  sink.finish(s);
  const problem = idProblem(s.traceId, s.spanId);
  if (problem === null) state.accept(s);
  else state.reject(problem);
}

function anyValue(v: unknown, depth: number): AttrValue {
  if (!isObject(v)) return undefined;
  let x: unknown;
  if ((x = v.stringValue ?? v.string_value) !== undefined) return typeof x === 'string' ? x : String(x);
  if ((x = v.boolValue ?? v.bool_value) !== undefined) return x === true || x === 'true';
  if ((x = v.intValue ?? v.int_value) !== undefined) return intValue(x);
  if ((x = v.doubleValue ?? v.double_value) !== undefined) return typeof x === 'number' ? x : Number(x);
  if ((x = v.arrayValue ?? v.array_value) !== undefined) {
    if (depth >= MAX_VALUE_DEPTH || !isObject(x)) return undefined;
    const values = x.values;
    return Array.isArray(values) ? values.map((e) => anyValue(e, depth + 1)) : [];
  }
  if ((x = v.kvlistValue ?? v.kvlist_value) !== undefined) {
    if (depth >= MAX_VALUE_DEPTH || !isObject(x)) return undefined;
    return new KvList(keyValues(x.values, depth + 1));
  }
  if ((x = v.bytesValue ?? v.bytes_value) !== undefined) {
    return typeof x === 'string' ? Buffer.from(x, 'base64') : undefined;
  }
  return undefined;
}

function keyValues(values: unknown, depth: number): Array<[string, AttrValue]> {
  const out: Array<[string, AttrValue]> = [];
  if (!Array.isArray(values)) return out;
  for (const kv of values) {
    if (isObject(kv) && typeof kv.key === 'string') out.push([kv.key, anyValue(kv.value, depth)]);
  }
  return out;
}

/** int64 as a number when exact, else a bigint; unparsable text is kept as a string. */
function intValue(x: unknown): AttrValue {
  if (typeof x === 'number') return Number.isInteger(x) ? x : Math.trunc(x);
  if (typeof x === 'string' && SIGNED_DECIMAL.test(x)) {
    const n = Number(x);
    return Number.isSafeInteger(n) ? n : BigInt.asIntN(64, BigInt(x));
  }
  return typeof x === 'string' ? x : undefined;
}

/** A hex id of the given length, lowercased; '' when absent or malformed. */
function hexId(x: unknown, length: number): string {
  if (typeof x !== 'string' || x.length !== length || !HEX.test(x)) return '';
  return x.toLowerCase();
}

function enumValue(x: unknown, names: Record<string, number>): number {
  if (typeof x === 'number' && Number.isInteger(x)) return x;
  if (typeof x === 'string') return Object.hasOwn(names, x) ? (names[x] as number) : 0;
  return 0;
}

function field(o: Json, camel: string, snake: string): unknown {
  const v = o[camel];
  return v !== undefined ? v : o[snake];
}

function list(x: unknown, name: string): unknown[] {
  if (x === undefined || x === null) return [];
  if (!Array.isArray(x)) throw new OtlpDecodeError(`${name} must be an array`);
  return x;
}

function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
