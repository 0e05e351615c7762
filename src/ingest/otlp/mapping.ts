/**
 * How an OTLP span becomes an AgentSpan: the attribute rules of
 * schemas/span-attributes.md, shared by the protobuf and JSON decoders.
 * Nothing here knows about a wire format.
 */
import { ATTR, type AgentSpan } from '../../model/span.js';
import type { Reason } from '../../model/verdict.js';
import type { IngestLimits } from '../limits.js';
import { MAX_STORABLE_NS, decimalLess, storableNanos } from './nanos.js';
import { type AttrValue, describeValue, stringifyValue } from './values.js';

/** What a span inherits from its resource. */
export interface ResourceContext {
  serviceName: string;
  agentId: string;
}

/** Attribute recording how many span attributes were over the per-span cap. */
export const DROPPED_ATTRIBUTES_KEY = 'chainsight.ingest.dropped_attributes';

/**
 * Attributes keeping a value as sent when decoding had to replace it so that
 * the store can hold the span (see normalise below). The `chainsight.ingest.`
 * prefix is reserved: senders' attributes under it are dropped, so these
 * always come from chainsight.
 */
export const RAW_VALUE_KEYS = {
  startTime: 'chainsight.ingest.raw_start_time_unix_nano',
  endTime: 'chainsight.ingest.raw_end_time_unix_nano',
  kind: 'chainsight.ingest.raw_kind',
  statusCode: 'chainsight.ingest.raw_status_code',
} as const;
const RESERVED_PREFIX = 'chainsight.ingest.';
/** OTLP SpanKind (0..5) and Status.code (0..2); the columns are UInt8. */
const MAX_SPAN_KIND = 5;
const MAX_STATUS_CODE = 2;

export function resourceContext(attributes: Iterable<[string, AttrValue]>, limits: IngestLimits): ResourceContext {
  const ctx: ResourceContext = { serviceName: '', agentId: '' };
  for (const [key, value] of attributes) {
    if (key === ATTR.serviceName) ctx.serviceName = scalar(value, limits);
    else if (key === ATTR.agentId) ctx.agentId = scalar(value, limits);
  }
  return ctx;
}

/** A span with defaults; every field is present so all spans share one object shape. */
export function newSpan(ctx: ResourceContext): AgentSpan {
  return {
    traceId: '',
    spanId: '',
    parentSpanId: '',
    name: '',
    kind: 0,
    startNs: '0',
    endNs: '0',
    startMs: 0,
    endMs: 0,
    receivedAtMs: 0,
    statusCode: 0,
    serviceName: ctx.serviceName,
    taskId: '',
    chain: null,
    agentId: ctx.agentId, // a span attribute overrides it
    agentName: '',
    operation: '',
    toolName: '',
    scopesUsed: [],
    resource: '',
    attributes: {},
  };
}

/**
 * Per-span attribute state: the count of kept "other" attributes. Kept outside
 * AgentSpan so the public shape carries no bookkeeping.
 */
export class AttributeSink {
  kept = 0;
  dropped = 0;
  constructor(private readonly limits: IngestLimits) {}

  reset(): void {
    this.kept = 0;
    this.dropped = 0;
  }

  /** Applies one span attribute to the span. */
  apply(span: AgentSpan, key: string, value: AttrValue): void {
    const limits = this.limits;
    switch (key) {
      case ATTR.taskId:
        span.taskId = scalar(value, limits);
        return;
      case ATTR.chain:
        applyChain(span, value, limits);
        return;
      case ATTR.scopeUsed:
        span.scopesUsed = scopes(value, limits);
        return;
      case ATTR.resource:
        span.resource = scalar(value, limits);
        return;
      case ATTR.agentId:
        span.agentId = scalar(value, limits);
        return;
      case ATTR.agentName:
        span.agentName = scalar(value, limits);
        return;
      case ATTR.operation:
        span.operation = scalar(value, limits);
        return;
      case ATTR.toolName:
        span.toolName = scalar(value, limits);
        return;
      default: {
        const k = key.length > limits.maxAttributeKeyLength ? key.slice(0, limits.maxAttributeKeyLength) : key;
        if (k.startsWith(RESERVED_PREFIX)) return;
        // Keys are unique per the OTLP spec, so counting every write is exact for
        // well-formed spans; a repeated key only overwrites once at the cap.
        if (this.kept >= limits.maxAttributesPerSpan) {
          if (!Object.hasOwn(span.attributes, k)) {
            this.dropped++;
            return;
          }
        } else this.kept++;
        const text = stringifyValue(value, limits.maxAttributeValueLength);
        if (k === '__proto__') {
          // a plain assignment would try to set the prototype and lose the attribute
          Object.defineProperty(span.attributes, k, { value: text, enumerable: true, writable: true, configurable: true });
        } else span.attributes[k] = text;
      }
    }
  }

  /** Called once the span's fields and attributes are all applied. */
  finish(span: AgentSpan): void {
    if (this.dropped > 0) span.attributes[DROPPED_ATTRIBUTES_KEY] = String(this.dropped);
    normalise(span);
  }
}

/**
 * Replaces what ClickHouse would refuse, so that one hostile span can never
 * fail an INSERT: times past what DateTime64(9) holds are clamped to its
 * last instant, an end before the start is set to the start, and an
 * out-of-range kind or status becomes 0 (unset). The value as sent is kept
 * under RAW_VALUE_KEYS; a repaired time also fails the verdict with
 * span.time_out_of_range, because the action's time can no longer be
 * trusted. startMs and endMs keep the times as sent, so time rules judge
 * what the span claimed. The span is stored either way, never dropped.
 */
export function normalise(span: AgentSpan): void {
  let issues: Reason[] | undefined;
  if (!storableNanos(span.startNs)) {
    span.attributes[RAW_VALUE_KEYS.startTime] = span.startNs;
    (issues ??= []).push({ code: 'span.time_out_of_range', message: `start time ${span.startNs} ns is after 2262-04-11T23:47:16.854775807Z, the latest the store holds` });
    span.startNs = MAX_STORABLE_NS;
  }
  if (!storableNanos(span.endNs)) {
    span.attributes[RAW_VALUE_KEYS.endTime] = span.endNs;
    (issues ??= []).push({ code: 'span.time_out_of_range', message: `end time ${span.endNs} ns is after 2262-04-11T23:47:16.854775807Z, the latest the store holds` });
    span.endNs = MAX_STORABLE_NS;
  }
  if (decimalLess(span.endNs, span.startNs)) {
    span.attributes[RAW_VALUE_KEYS.endTime] ??= span.endNs;
    (issues ??= []).push({ code: 'span.time_out_of_range', message: `end time ${span.endNs} ns is before start time ${span.startNs} ns` });
    span.endNs = span.startNs;
  }
  if (!(span.kind >= 0 && span.kind <= MAX_SPAN_KIND && Number.isInteger(span.kind))) {
    span.attributes[RAW_VALUE_KEYS.kind] = String(span.kind);
    span.kind = 0;
  }
  if (!(span.statusCode >= 0 && span.statusCode <= MAX_STATUS_CODE && Number.isInteger(span.statusCode))) {
    span.attributes[RAW_VALUE_KEYS.statusCode] = String(span.statusCode);
    span.statusCode = 0;
  }
  if (issues !== undefined) span.ingestIssues = issues;
}

/** Scalar fields: strings as sent; any other type stringified so it still shows (and fails checks). */
function scalar(value: AttrValue, limits: IngestLimits): string {
  if (typeof value === 'string') {
    return value.length > limits.maxAttributeValueLength ? value.slice(0, limits.maxAttributeValueLength) : value;
  }
  return stringifyValue(value, limits.maxAttributeValueLength);
}

function applyChain(span: AgentSpan, value: AttrValue, limits: IngestLimits): void {
  span.chain = null;
  // chainError is added only when needed so that well-formed spans keep one object shape.
  if (span.chainError !== undefined) delete span.chainError;
  // Each fault names the reason of delegation-token.md §4 that the verifier reports.
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    span.chainError = { code: 'chain.malformed', message: `${ATTR.chain} must be an array of strings, got ${describeValue(value)}` };
    return;
  }
  if (value.length === 0) {
    span.chainError = { code: 'chain.missing', message: `${ATTR.chain} is an empty array` };
    return;
  }
  if (value.length > limits.maxChainLinks) {
    span.chainError = { code: 'chain.too_deep', link: limits.maxChainLinks, message: `${ATTR.chain} has ${value.length} links, more than the limit of ${limits.maxChainLinks}` };
    return;
  }
  for (let i = 0; i < value.length; i++) {
    const link = value[i] as string;
    if (link.length > limits.maxChainLinkLength) {
      span.chainError = { code: 'token.too_large', link: i, message: `${ATTR.chain} link ${i} is ${link.length} characters, more than the limit of ${limits.maxChainLinkLength}` };
      return;
    }
  }
  span.chain = value as string[];
}

/**
 * chainsight.scope.used: a string array; a single string counts as one scope.
 * Non-string entries are stringified rather than dropped, so that malformed
 * input can only add scopes to check, never hide one.
 */
function scopes(value: AttrValue, limits: IngestLimits): string[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value.map((v) => scalar(v, limits));
  return [scalar(value, limits)];
}
