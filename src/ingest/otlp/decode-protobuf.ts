/**
 * OTLP/protobuf ExportTraceServiceRequest → AgentSpan, walking the wire
 * format with protobufjs's Reader and writing straight into AgentSpan.
 *
 * Why not Type.decode: it first builds a message object per span, per
 * attribute and per AnyValue, which we would then walk again; reading the
 * fields we need in place (ids to hex straight from the body buffer, fixed64
 * times from their two 32-bit words) is about twice as fast and allocates
 * only what AgentSpan keeps. Field numbers are those of schema.ts (checked
 * by a unit test that round-trips bodies encoded with that schema).
 * Unknown fields are skipped by wire type, as protobuf requires.
 */
import protobuf from 'protobufjs';
import type { AgentSpan } from '../../model/span.js';
import { LimitError } from '../limits.js';
import { OtlpDecodeError } from './errors.js';
import { AttributeSink, type ResourceContext, newSpan, resourceContext } from './mapping.js';
import { u64NanosToMs, u64ToDecimal } from './nanos.js';
import { DecodeState, ZERO_SPAN_ID, idProblem } from './result.js';
import { type AttrValue, KvList } from './values.js';

type Reader = protobuf.Reader;

// Tags (field number << 3 | wire type) of the fields read below.
const T_REQ_RESOURCE_SPANS = (1 << 3) | 2;
const T_RS_RESOURCE = (1 << 3) | 2;
const T_RS_SCOPE_SPANS = (2 << 3) | 2;
const T_RES_ATTRIBUTES = (1 << 3) | 2;
const T_SS_SPANS = (2 << 3) | 2;
const T_SPAN_TRACE_ID = (1 << 3) | 2;
const T_SPAN_SPAN_ID = (2 << 3) | 2;
const T_SPAN_PARENT_ID = (4 << 3) | 2;
const T_SPAN_NAME = (5 << 3) | 2;
const T_SPAN_KIND = (6 << 3) | 0;
const T_SPAN_START = (7 << 3) | 1;
const T_SPAN_END = (8 << 3) | 1;
const T_SPAN_ATTRIBUTES = (9 << 3) | 2;
const T_SPAN_STATUS = (15 << 3) | 2;
const T_STATUS_CODE = (3 << 3) | 0;
const T_KV_KEY = (1 << 3) | 2;
const T_KV_VALUE = (2 << 3) | 2;
const T_AV_STRING = (1 << 3) | 2;
const T_AV_BOOL = (2 << 3) | 0;
const T_AV_INT = (3 << 3) | 0;
const T_AV_DOUBLE = (4 << 3) | 1;
const T_AV_ARRAY = (5 << 3) | 2;
const T_AV_KVLIST = (6 << 3) | 2;
const T_AV_BYTES = (7 << 3) | 2;
const T_LIST_VALUES = (1 << 3) | 2; // ArrayValue.values and KeyValueList.values

/** Nesting of array/kvlist attribute values kept; deeper values become empty. */
const MAX_VALUE_DEPTH = 16;
const EMPTY_RESOURCE: ResourceContext = Object.freeze({ serviceName: '', agentId: '' });

/** Decodes a protobuf body into state; throws OtlpDecodeError or LimitError. */
export function decodeProtobufRequest(body: Uint8Array, state: DecodeState): void {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const r = protobuf.Reader.create(buf);
  const sink = new AttributeSink(state.limits);
  try {
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (tag === T_REQ_RESOURCE_SPANS) resourceSpans(r, buf, subEnd(r, r.len), state, sink);
      else skipField(r, tag);
    }
  } catch (err) {
    if (err instanceof LimitError || err instanceof OtlpDecodeError) throw err;
    const why = err instanceof Error ? err.message : String(err);
    throw new OtlpDecodeError(`body is not a protobuf ExportTraceServiceRequest: ${why}`, { cause: err });
  }
}

function resourceSpans(r: Reader, buf: Buffer, end: number, state: DecodeState, sink: AttributeSink): void {
  let ctx = EMPTY_RESOURCE;
  // Fields may come in any order; spans need the resource, so note where the scopes are first.
  const scopes: number[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === T_RS_RESOURCE) {
      ctx = resourceContext(resourceAttributes(r, buf, subEnd(r, end)), state.limits);
    } else if (tag === T_RS_SCOPE_SPANS) {
      const scopeEnd = subEnd(r, end);
      scopes.push(r.pos, scopeEnd);
      r.pos = scopeEnd;
    } else skipField(r, tag);
  }
  checkEnd(r, end);
  for (let i = 0; i < scopes.length; i += 2) {
    r.pos = scopes[i] as number;
    scopeSpans(r, buf, scopes[i + 1] as number, ctx, state, sink);
  }
  r.pos = end;
}

function resourceAttributes(r: Reader, buf: Buffer, end: number): Array<[string, AttrValue]> {
  const out: Array<[string, AttrValue]> = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === T_RES_ATTRIBUTES) {
      keyValue(r, buf, subEnd(r, end), 0);
      out.push([kvKey, kvValue]);
    } else skipField(r, tag);
  }
  checkEnd(r, end);
  return out;
}

function scopeSpans(
  r: Reader,
  buf: Buffer,
  end: number,
  ctx: ResourceContext,
  state: DecodeState,
  sink: AttributeSink,
): void {
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === T_SS_SPANS) span(r, buf, subEnd(r, end), ctx, state, sink);
    else skipField(r, tag);
  }
  checkEnd(r, end);
}

function span(r: Reader, buf: Buffer, end: number, ctx: ResourceContext, state: DecodeState, sink: AttributeSink): void {
  state.countSpan();
  const s: AgentSpan = newSpan(ctx);
  sink.reset();
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case T_SPAN_TRACE_ID:
        s.traceId = idHex(r, buf, end, 16);
        break;
      case T_SPAN_SPAN_ID:
        s.spanId = idHex(r, buf, end, 8);
        break;
      case T_SPAN_PARENT_ID: {
        const parent = idHex(r, buf, end, 8);
        s.parentSpanId = parent === ZERO_SPAN_ID ? '' : parent;
        break;
      }
      case T_SPAN_NAME:
        s.name = r.string();
        break;
      case T_SPAN_KIND:
        s.kind = r.int32();
        break;
      case T_SPAN_START: {
        const lo = r.fixed32();
        const hi = r.fixed32();
        s.startNs = u64ToDecimal(lo, hi);
        s.startMs = u64NanosToMs(lo, hi);
        break;
      }
      case T_SPAN_END: {
        const lo = r.fixed32();
        const hi = r.fixed32();
        s.endNs = u64ToDecimal(lo, hi);
        s.endMs = u64NanosToMs(lo, hi);
        break;
      }
      case T_SPAN_ATTRIBUTES:
        keyValue(r, buf, subEnd(r, end), 0);
        sink.apply(s, kvKey, kvValue);
        break;
      case T_SPAN_STATUS:
        s.statusCode = statusCode(r, subEnd(r, end));
        break;
      default:
        skipField(r, tag);
    }
  }
  checkEnd(r, end);
  sink.finish(s);
  const problem = idProblem(s.traceId, s.spanId);
  if (problem === null) state.accept(s);
  else state.reject(problem);
}

function statusCode(r: Reader, end: number): number {
  let code = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === T_STATUS_CODE) code = r.int32();
    else skipField(r, tag);
  }
  checkEnd(r, end);
  return code;
}

// The last KeyValue read. Module-level rather than a returned tuple: this runs
// ~15 times per span and the pair would be garbage at once. Set only at the
// end of keyValue, so nested kvlists cannot clobber a pending read.
let kvKey = '';
let kvValue: AttrValue = undefined;

function keyValue(r: Reader, buf: Buffer, end: number, depth: number): void {
  let key = '';
  let value: AttrValue = undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === T_KV_KEY) key = r.string();
    else if (tag === T_KV_VALUE) value = anyValue(r, buf, subEnd(r, end), depth);
    else skipField(r, tag);
  }
  checkEnd(r, end);
  kvKey = key;
  kvValue = value;
}

function anyValue(r: Reader, buf: Buffer, end: number, depth: number): AttrValue {
  let value: AttrValue = undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case T_AV_STRING:
        value = r.string();
        break;
      case T_AV_BOOL:
        value = r.bool();
        break;
      case T_AV_INT:
        value = int64Value(r.int64() as unknown as { low: number; high: number } | number);
        break;
      case T_AV_DOUBLE:
        value = r.double();
        break;
      case T_AV_ARRAY:
        value = depth < MAX_VALUE_DEPTH ? arrayValue(r, buf, subEnd(r, end), depth + 1) : skipMessage(r, end);
        break;
      case T_AV_KVLIST:
        value = depth < MAX_VALUE_DEPTH ? kvlistValue(r, buf, subEnd(r, end), depth + 1) : skipMessage(r, end);
        break;
      case T_AV_BYTES:
        value = r.bytes();
        break;
      default:
        skipField(r, tag);
    }
  }
  checkEnd(r, end);
  return value;
}

function arrayValue(r: Reader, buf: Buffer, end: number, depth: number): AttrValue[] {
  const values: AttrValue[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === T_LIST_VALUES) values.push(anyValue(r, buf, subEnd(r, end), depth));
    else skipField(r, tag);
  }
  checkEnd(r, end);
  return values;
}

function kvlistValue(r: Reader, buf: Buffer, end: number, depth: number): KvList {
  const entries: Array<[string, AttrValue]> = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === T_LIST_VALUES) {
      keyValue(r, buf, subEnd(r, end), depth);
      entries.push([kvKey, kvValue]);
    } else skipField(r, tag);
  }
  checkEnd(r, end);
  return new KvList(entries);
}

/** int64 as a number when exact, else a bigint. protobufjs hands back a Long (or a number without long.js). */
function int64Value(v: { low: number; high: number } | number): number | bigint {
  if (typeof v === 'number') return v;
  const { low, high } = v;
  if (high >= -0x200000 && high < 0x200000) return high * 4294967296 + (low >>> 0);
  return BigInt.asIntN(64, (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0));
}

/**
 * An id field as lowercase hex, read straight from the body buffer. Ids of
 * the wrong length come back as '' (the span is then rejected, or for a
 * parent id treated as absent) without hex-encoding arbitrary garbage.
 */
function idHex(r: Reader, buf: Buffer, limit: number, size: number): string {
  const end = subEnd(r, limit);
  const start = r.pos;
  r.pos = end;
  return end - start === size ? buf.toString('hex', start, end) : '';
}

/** Reads a length prefix; the end offset it implies must lie inside the enclosing message. */
function subEnd(r: Reader, limit: number): number {
  const len = r.uint32();
  const end = r.pos + len;
  if (end > limit) throw new OtlpDecodeError(`truncated message: a field of ${len} bytes overruns its container at offset ${r.pos}`);
  return end;
}

function skipMessage(r: Reader, limit: number): undefined {
  r.pos = subEnd(r, limit);
  return undefined;
}

function checkEnd(r: Reader, end: number): void {
  if (r.pos !== end) throw new OtlpDecodeError(`malformed message: field overruns its container at offset ${end}`);
}

function skipField(r: Reader, tag: number): void {
  const wireType = tag & 7;
  if (tag >>> 3 === 0) throw new OtlpDecodeError(`invalid field number 0 at offset ${r.pos}`);
  if (wireType === 4) throw new OtlpDecodeError(`unexpected end-group at offset ${r.pos}`);
  r.skipType(wireType);
}
