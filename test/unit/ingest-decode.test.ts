import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { hrTimeToNanoseconds } from '@opentelemetry/core';
import { LimitError, resolveIngestLimits } from '../../src/ingest/limits.js';
import { OtlpDecodeError, decodeOtlp } from '../../src/ingest/otlp/index.js';
import type { AgentSpan } from '../../src/model/span.js';
import { agentSpanAttributes, withTask } from '../../src/sdk/telemetry.js';
import { type Encoding, encodeProtobufRequest, fakeLink, recordSpans, serializeSpans } from '../support/otel.js';

const limits = resolveIngestLimits();
const ENCODINGS: Encoding[] = ['protobuf', 'json'];
const AGENT = 'spiffe://example.org/agent/planner';
const chain = [fakeLink('root'), fakeLink('mid'), fakeLink('leaf')];

function decodeBoth(body: Record<Encoding, Uint8Array>) {
  return { protobuf: decodeOtlp(body.protobuf, 'protobuf', limits), json: decodeOtlp(body.json, 'json', limits) };
}

/** Spans recorded by the real SDK, serialized by the real OTLP serializers. */
async function sdkBodies() {
  const spans = await recordSpans({ 'service.name': 'planner-svc', 'gen_ai.agent.id': AGENT }, (tracer) =>
    withTask('task-42', () => {
      const parent = tracer.startSpan('invoke_agent planner', {
        kind: SpanKind.CLIENT,
        attributes: {
          ...agentSpanAttributes({
            chain,
            taskId: 'task-42',
            agentId: AGENT,
            agentName: 'planner',
            operation: 'invoke_agent',
            delegationTarget: 'spiffe://example.org/agent/worker',
          }),
        },
      });
      parent.setStatus({ code: SpanStatusCode.OK });
      parent.end();
      // Only baggage carries the task id; the resource carries the agent id.
      const child = tracer.startSpan('execute_tool s3.get', {
        attributes: {
          'chainsight.delegation.chain': chain,
          'gen_ai.operation.name': 'execute_tool',
          'gen_ai.tool.name': 's3.get',
          'chainsight.scope.used': 's3:read',
          'chainsight.resource': 'arn:aws:s3:::reports/q3.csv',
          'http.status_code': 200,
          ratio: 0.5,
          retried: false,
          tags: ['a', 'b'],
        },
      });
      child.setStatus({ code: SpanStatusCode.ERROR, message: 'denied' });
      child.end();
    }),
  );
  return { spans, body: { protobuf: serializeSpans(spans, 'protobuf'), json: serializeSpans(spans, 'json') } };
}

describe('decodeOtlp on bodies serialized by the OTel exporters', () => {
  it('maps every field identically from protobuf and JSON', async () => {
    const { spans, body } = await sdkBodies();
    const out = decodeBoth(body);
    for (const enc of ENCODINGS) {
      const r = out[enc];
      assert.equal(r.rejected, 0, enc);
      assert.deepEqual(r.errors, []);
      assert.equal(r.spans.length, 2);
      const [inv, tool] = r.spans as [AgentSpan, AgentSpan];
      const [sdkInv, sdkTool] = spans as [(typeof spans)[0], (typeof spans)[0]];

      assert.equal(inv.traceId, sdkInv.spanContext().traceId);
      assert.match(inv.traceId, /^[0-9a-f]{32}$/);
      assert.equal(inv.spanId, sdkInv.spanContext().spanId);
      assert.equal(inv.parentSpanId, '');
      assert.equal(tool.parentSpanId, '', 'spans started without an active parent are roots');
      assert.equal(inv.name, 'invoke_agent planner');
      assert.equal(inv.kind, 3); // OTLP SPAN_KIND_CLIENT
      assert.equal(tool.kind, 1); // OTLP SPAN_KIND_INTERNAL
      const startNs = BigInt(sdkInv.startTime[0]) * 1_000_000_000n + BigInt(sdkInv.startTime[1]);
      assert.equal(inv.startNs, startNs.toString());
      assert.equal(inv.startMs, Math.round(hrTimeToNanoseconds(sdkInv.startTime) / 1e6));
      assert.ok(BigInt(inv.endNs) >= startNs);
      assert.equal(inv.statusCode, 1);
      assert.equal(tool.statusCode, 2);
      assert.equal(inv.serviceName, 'planner-svc');

      assert.equal(inv.taskId, 'task-42');
      assert.equal(tool.taskId, 'task-42', 'task id copied from baggage');
      assert.deepEqual(inv.chain, chain);
      assert.equal(inv.chainError, undefined);
      assert.ok(!('chainError' in inv));
      assert.equal(inv.agentId, AGENT);
      assert.equal(tool.agentId, AGENT, 'agent id from the resource');
      assert.equal(inv.agentName, 'planner');
      assert.equal(inv.operation, 'invoke_agent');
      assert.equal(inv.toolName, '');
      assert.deepEqual(inv.attributes, { 'chainsight.delegation.target': 'spiffe://example.org/agent/worker' });

      assert.equal(tool.operation, 'execute_tool');
      assert.equal(tool.toolName, 's3.get');
      assert.deepEqual(tool.scopesUsed, ['s3:read'], 'a single string is one scope');
      assert.equal(tool.resource, 'arn:aws:s3:::reports/q3.csv');
      assert.deepEqual(tool.attributes, {
        'http.status_code': '200',
        ratio: '0.5',
        retried: 'false',
        tags: '["a","b"]',
      });
      assert.equal(sdkTool.spanContext().spanId, tool.spanId);
    }
    assert.deepEqual(out.protobuf.spans, out.json.spans);
  });

  it('keeps parent ids', async () => {
    const spans = await recordSpans({ 'service.name': 's' }, (tracer) => {
      tracer.startActiveSpan('outer', (outer) => {
        tracer.startSpan('inner').end();
        outer.end();
      });
    });
    for (const enc of ENCODINGS) {
      const r = decodeOtlp(serializeSpans(spans, enc), enc, limits);
      const inner = r.spans.find((s) => s.name === 'inner');
      const outer = r.spans.find((s) => s.name === 'outer');
      assert.ok(inner && outer);
      assert.equal(inner.parentSpanId, outer.spanId);
      assert.equal(inner.traceId, outer.traceId);
    }
  });

  it('prefers a span gen_ai.agent.id over the resource one, and keeps spans without chainsight attributes', async () => {
    const spans = await recordSpans({ 'service.name': 's', 'gen_ai.agent.id': AGENT }, (tracer) => {
      tracer.startSpan('a', { attributes: { 'gen_ai.agent.id': 'spiffe://example.org/agent/other' } }).end();
      tracer.startSpan('plain').end();
    });
    for (const enc of ENCODINGS) {
      const [a, plain] = decodeOtlp(serializeSpans(spans, enc), enc, limits).spans as [AgentSpan, AgentSpan];
      assert.equal(a.agentId, 'spiffe://example.org/agent/other');
      assert.equal(plain.agentId, AGENT);
      assert.equal(plain.chain, null);
      assert.equal(plain.chainError, undefined);
      assert.equal(plain.taskId, '');
      assert.deepEqual(plain.scopesUsed, []);
    }
  });
});

// --- shapes the SDK cannot produce, encoded with the schema (protobuf) and by hand (JSON) ---

const TRACE = Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex');
const SPAN = Buffer.from('b7ad6b7169203331', 'hex');

type PbValue = Record<string, unknown>;
function pbRequest(spans: Array<Record<string, unknown>>, resourceAttrs: Array<[string, PbValue]> = []) {
  return encodeProtobufRequest({
    resourceSpans: [
      {
        resource: { attributes: resourceAttrs.map(([key, value]) => ({ key, value })) },
        scopeSpans: [{ spans }],
      },
    ],
  });
}
function pbSpan(attrs: Array<[string, PbValue]>, extra: Record<string, unknown> = {}) {
  return {
    traceId: TRACE,
    spanId: SPAN,
    name: 'x',
    startTimeUnixNano: '1700000000123456789',
    endTimeUnixNano: '1700000001000000000',
    attributes: attrs.map(([key, value]) => ({ key, value })),
    ...extra,
  };
}
function jsonRequest(spans: unknown[], resourceAttrs: Array<[string, unknown]> = []) {
  return Buffer.from(
    JSON.stringify({
      resourceSpans: [
        { resource: { attributes: resourceAttrs.map(([key, value]) => ({ key, value })) }, scopeSpans: [{ spans }] },
      ],
    }),
  );
}
function jsonSpan(attrs: Array<[string, unknown]>, extra: Record<string, unknown> = {}) {
  return {
    traceId: TRACE.toString('hex'),
    spanId: SPAN.toString('hex'),
    name: 'x',
    startTimeUnixNano: '1700000000123456789',
    endTimeUnixNano: '1700000001000000000',
    attributes: attrs.map(([key, value]) => ({ key, value })),
    ...extra,
  };
}
/** One attribute set in both encodings (the AnyValue JSON shape matches protobufjs fromObject, except bytes/int64). */
function oneSpanBoth(attrs: Array<[string, PbValue]>) {
  return decodeBoth({ protobuf: pbRequest([pbSpan(attrs)]), json: jsonRequest([jsonSpan(attrs)]) });
}
const str = (s: string) => ({ stringValue: s });
const arr = (...values: PbValue[]) => ({ arrayValue: { values } });

describe('chainsight.delegation.chain', () => {
  const cases: Array<[string, PbValue, string, string]> = [
    ['a string', str('a.b.c'), 'chain.malformed', 'chainsight.delegation.chain must be an array of strings, got string'],
    ['an int', { intValue: 5 }, 'chain.malformed', 'chainsight.delegation.chain must be an array of strings, got int'],
    ['a kvlist', { kvlistValue: { values: [] } }, 'chain.malformed', 'chainsight.delegation.chain must be an array of strings, got kvlist'],
    ['a mixed array', arr(str('a'), { boolValue: true }), 'chain.malformed', 'chainsight.delegation.chain must be an array of strings, got array containing bool'],
    ['an empty array', arr(), 'chain.missing', 'chainsight.delegation.chain is an empty array'],
  ];
  for (const [what, value, code, message] of cases) {
    it(`is null with an explanation when it is ${what}`, () => {
      for (const enc of ENCODINGS) {
        const [s] = oneSpanBoth([['chainsight.delegation.chain', value]])[enc].spans as [AgentSpan];
        assert.equal(s.chain, null, enc);
        assert.deepEqual(s.chainError, { code, message }, enc);
      }
    });
  }
  it('is kept when it is a string array', () => {
    for (const enc of ENCODINGS) {
      const [s] = oneSpanBoth([['chainsight.delegation.chain', arr(str('l1'), str('l2'))]])[enc].spans as [AgentSpan];
      assert.deepEqual(s.chain, ['l1', 'l2']);
      assert.equal(s.chainError, undefined);
    }
  });
  it('is refused past the link-count and link-length limits', () => {
    const tight = resolveIngestLimits({ maxChainLinks: 2, maxChainLinkLength: 10 });
    const many = pbRequest([pbSpan([['chainsight.delegation.chain', arr(str('a'), str('b'), str('c'))]])]);
    const long = pbRequest([pbSpan([['chainsight.delegation.chain', arr(str('a'), str('x'.repeat(11)))]])]);
    const ok = pbRequest([pbSpan([['chainsight.delegation.chain', arr(str('a'), str('x'.repeat(10)))]])]);
    const m = decodeOtlp(many, 'protobuf', tight).spans[0] as AgentSpan;
    assert.equal(m.chain, null);
    assert.deepEqual(m.chainError, { code: 'chain.too_deep', link: 2, message: 'chainsight.delegation.chain has 3 links, more than the limit of 2' });
    const l = decodeOtlp(long, 'protobuf', tight).spans[0] as AgentSpan;
    assert.equal(l.chain, null);
    assert.deepEqual(l.chainError, { code: 'token.too_large', link: 1, message: 'chainsight.delegation.chain link 1 is 11 characters, more than the limit of 10' });
    assert.deepEqual((decodeOtlp(ok, 'protobuf', tight).spans[0] as AgentSpan).chain, ['a', 'x'.repeat(10)]);
  });
  it('the last occurrence wins and clears an earlier error', () => {
    const [s] = oneSpanBoth([
      ['chainsight.delegation.chain', str('bad')],
      ['chainsight.delegation.chain', arr(str('good'))],
    ]).protobuf.spans as [AgentSpan];
    assert.deepEqual(s.chain, ['good']);
    assert.ok(!('chainError' in s));
  });
});

describe('lifted attributes', () => {
  it('scopes: arrays kept, non-string entries stringified rather than dropped', () => {
    for (const enc of ENCODINGS) {
      const [s] = oneSpanBoth([['chainsight.scope.used', arr(str('s3:read'), { intValue: 7 })]])[enc].spans as [AgentSpan];
      assert.deepEqual(s.scopesUsed, ['s3:read', '7']);
    }
  });
  it('non-string scalars are stringified', () => {
    for (const enc of ENCODINGS) {
      const [s] = oneSpanBoth([
        ['chainsight.task.id', { intValue: 99 }],
        ['gen_ai.tool.name', { boolValue: true }],
      ])[enc].spans as [AgentSpan];
      assert.equal(s.taskId, '99');
      assert.equal(s.toolName, 'true');
    }
  });
  it('resource-level service.name and gen_ai.agent.id', () => {
    const attrs: Array<[string, PbValue]> = [
      ['service.name', str('svc')],
      ['gen_ai.agent.id', str(AGENT)],
    ];
    const r = decodeBoth({ protobuf: pbRequest([pbSpan([])], attrs), json: jsonRequest([jsonSpan([])], attrs) });
    for (const enc of ENCODINGS) {
      const [s] = r[enc].spans as [AgentSpan];
      assert.equal(s.serviceName, 'svc');
      assert.equal(s.agentId, AGENT);
      assert.equal(s.startNs, '1700000000123456789');
      assert.equal(s.startMs, 1700000000123);
      assert.equal(s.endNs, '1700000001000000000');
    }
  });
});

describe('other attributes', () => {
  it('are stringified by type', () => {
    const attrs: Array<[string, PbValue]> = [
      ['s', str('text')],
      ['i', { intValue: -12 }],
      ['d', { doubleValue: 2.5 }],
      ['b', { boolValue: true }],
      ['a', arr(str('x'), { intValue: 1 })],
      ['kv', { kvlistValue: { values: [{ key: 'k', value: str('v') }] } }],
      ['empty', {}],
    ];
    for (const enc of ENCODINGS) {
      const [s] = oneSpanBoth(attrs)[enc].spans as [AgentSpan];
      assert.deepEqual(s.attributes, {
        s: 'text',
        i: '-12',
        d: '2.5',
        b: 'true',
        a: '["x",1]',
        kv: '{"k":"v"}',
        empty: '',
      });
    }
  });
  it('int64 beyond 2^53 and bytes keep their exact values', () => {
    const big = '9223372036854775807';
    const pb = pbRequest([pbSpan([['big', { intValue: big }], ['raw', { bytesValue: Buffer.from([1, 2, 255]) }]])]);
    const js = jsonRequest([jsonSpan([['big', { intValue: big }], ['raw', { bytesValue: Buffer.from([1, 2, 255]).toString('base64') }]])]);
    for (const [enc, body] of [['protobuf', pb], ['json', js]] as const) {
      const [s] = decodeOtlp(body, enc, limits).spans as [AgentSpan];
      assert.equal(s.attributes.big, big);
      assert.equal(s.attributes.raw, 'AQL/');
    }
  });
  it('are capped in count, key length and value length', () => {
    const tight = resolveIngestLimits({ maxAttributesPerSpan: 2, maxAttributeValueLength: 4, maxAttributeKeyLength: 3 });
    const body = pbRequest([
      pbSpan([
        ['k1', str('123456')],
        ['longkey', str('v')],
        ['k3', str('v')],
        ['k4', str('v')],
        ['chainsight.task.id', str('task-long')],
      ]),
    ]);
    const [s] = decodeOtlp(body, 'protobuf', tight).spans as [AgentSpan];
    assert.deepEqual(s.attributes, { k1: '1234', lon: 'v', 'chainsight.ingest.dropped_attributes': '2' });
    assert.equal(s.taskId, 'task', 'lifted scalars are capped too');
    const [u] = decodeOtlp(body, 'protobuf', limits).spans as [AgentSpan];
    assert.equal(Object.keys(u.attributes).length, 4);
  });
  it('a __proto__ key is kept as a plain attribute', () => {
    const [s] = oneSpanBoth([['__proto__', str('x')]]).protobuf.spans as [AgentSpan];
    assert.equal(Object.getOwnPropertyDescriptor(s.attributes, '__proto__')?.value, 'x');
    assert.equal(Object.getPrototypeOf(s.attributes), Object.prototype);
  });
});

describe('rejection', () => {
  it('rejects spans without valid ids, keeps the rest, and says why', () => {
    const pb = pbRequest([
      pbSpan([], { traceId: Buffer.alloc(0) }),
      pbSpan([], { traceId: Buffer.alloc(16) }),
      pbSpan([], { spanId: Buffer.from('abcd', 'hex') }),
      pbSpan([], { spanId: Buffer.alloc(8) }),
      pbSpan([], { traceId: Buffer.alloc(0) }),
      pbSpan([]),
    ]);
    const js = jsonRequest([
      jsonSpan([], { traceId: undefined }),
      jsonSpan([], { traceId: '0'.repeat(32) }),
      jsonSpan([], { spanId: 'abcd' }),
      jsonSpan([], { spanId: '0'.repeat(16) }),
      jsonSpan([], { traceId: 'zz'.repeat(16) }),
      jsonSpan([]),
      42,
    ]);
    const p = decodeOtlp(pb, 'protobuf', limits);
    assert.equal(p.spans.length, 1);
    assert.equal(p.rejected, 5);
    assert.deepEqual(p.errors, [
      '2 spans: trace id is missing or not 16 bytes (32 hex digits)',
      '1 span: trace id is all zeros',
      '1 span: span id is missing or not 8 bytes (16 hex digits)',
      '1 span: span id is all zeros',
    ]);
    const j = decodeOtlp(js, 'json', limits);
    assert.equal(j.spans.length, 1);
    assert.equal(j.rejected, 6);
    assert.deepEqual(j.errors, [...p.errors, '1 span: span is not a JSON object']);
  });
  it('accepts a valid span with an all-zero parent as a root', () => {
    const [s] = decodeOtlp(pbRequest([pbSpan([], { parentSpanId: Buffer.alloc(8) })]), 'protobuf', limits).spans as [AgentSpan];
    assert.equal(s.parentSpanId, '');
  });
});

describe('JSON specifics', () => {
  it('accepts uppercase hex, enum names, snake_case fields and numeric times', () => {
    const body = Buffer.from(
      JSON.stringify({
        resource_spans: [
          {
            scope_spans: [
              {
                spans: [
                  {
                    trace_id: TRACE.toString('hex').toUpperCase(),
                    span_id: SPAN.toString('hex').toUpperCase(),
                    kind: 'SPAN_KIND_SERVER',
                    start_time_unix_nano: 1_700_000_000,
                    endTimeUnixNano: '1700000002000000000',
                    status: { code: 'STATUS_CODE_ERROR' },
                    attributes: [{ key: 'n', value: { int_value: '12' } }],
                  },
                ],
              },
            ],
          },
        ],
      }),
    );
    const [s] = decodeOtlp(body, 'json', limits).spans as [AgentSpan];
    assert.equal(s.traceId, TRACE.toString('hex'));
    assert.equal(s.spanId, SPAN.toString('hex'));
    assert.equal(s.kind, 2);
    assert.equal(s.statusCode, 2);
    assert.equal(s.startNs, '1700000000');
    assert.equal(s.endNs, '1700000002000000000');
    assert.deepEqual(s.attributes, { n: '12' });
  });
  it('an empty request decodes to nothing', () => {
    assert.deepEqual(decodeOtlp(Buffer.from('{}'), 'json', limits), { spans: [], rejected: 0, errors: [] });
    assert.deepEqual(decodeOtlp(new Uint8Array(0), 'protobuf', limits), { spans: [], rejected: 0, errors: [] });
  });
});

describe('undecodable bodies', () => {
  const bad: Array<[Encoding, Uint8Array, RegExp]> = [
    ['json', Buffer.from('{"resourceSpans": ['), /not valid JSON/],
    ['json', Buffer.from('[1,2]'), /not a JSON object/],
    ['json', Buffer.from('{"resourceSpans": 5}'), /resourceSpans must be an array/],
    ['json', Buffer.from('{"resourceSpans": [{"scopeSpans": {}}]}'), /scopeSpans must be an array/],
    ['protobuf', Buffer.from('this is not protobuf at all'), /ExportTraceServiceRequest|truncated|invalid|malformed|end-group/],
    ['protobuf', Buffer.from([0x0a, 0x50, 0x01]), /truncated/],
    ['protobuf', Buffer.from([0x0f]), /invalid wire type|ExportTraceServiceRequest/],
  ];
  for (const [enc, body, re] of bad) {
    it(`${enc}: ${Buffer.from(body).toString('latin1').slice(0, 30)}`, () => {
      assert.throws(() => decodeOtlp(body, enc, limits), (err: unknown) => err instanceof OtlpDecodeError && re.test(err.message));
    });
  }
  it('a truncated SDK body is refused', async () => {
    const { body } = await sdkBodies();
    assert.throws(() => decodeOtlp(body.protobuf.subarray(0, body.protobuf.length - 7), 'protobuf', limits), OtlpDecodeError);
  });
  it('deeply nested values do not overflow the stack', () => {
    let v: PbValue = str('deep');
    for (let i = 0; i < 24; i++) v = arr(v);
    const [s] = decodeOtlp(pbRequest([pbSpan([['deep', v]])]), 'protobuf', limits).spans as [AgentSpan];
    assert.ok((s.attributes.deep as string).startsWith('[[[['));
    assert.ok(!(s.attributes.deep as string).includes('deep'), 'cut off past the nesting limit');
  });
});

describe('spans-per-request limit', () => {
  it('throws LimitError past the limit, in both encodings', () => {
    const tight = resolveIngestLimits({ maxSpansPerRequest: 2 });
    const three = { protobuf: pbRequest([pbSpan([]), pbSpan([]), pbSpan([])]), json: jsonRequest([jsonSpan([]), jsonSpan([]), jsonSpan([])]) };
    for (const enc of ENCODINGS) {
      assert.throws(() => decodeOtlp(three[enc], enc, tight), (e: unknown) => e instanceof LimitError && e.limit === 'maxSpansPerRequest');
      const two = decodeOtlp(enc === 'protobuf' ? pbRequest([pbSpan([]), pbSpan([])]) : jsonRequest([jsonSpan([]), jsonSpan([])]), enc, tight);
      assert.equal(two.spans.length, 2);
    }
  });
});
