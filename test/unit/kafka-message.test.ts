import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import {
  DLQ_HEADER,
  deadLetterOf,
  deadLetterOfRefusal,
  decodeBatch,
  MAX_REFUSED_ROW_BYTES,
  detectFormat,
  errorText,
  headerText,
  type PoisonMessage,
  type SpanDecoder,
} from '../../src/ingest/kafka-message.js';
import { OtlpDecodeError } from '../../src/ingest/otlp/index.js';
import { StoreError } from '../../src/store/errors.js';
import { otlpDecoder, otlpJsonExport, otlpProtoExport } from '../support/kafka.js';

const JSON_BODY = Buffer.from('{"resourceSpans":[]}');
const PROTO_BODY = otlpProtoExport(1, 1).body; // starts with tag 0x0a (field 1, length-delimited)

/** A fetched message: record-batch shape with headers, legacy message-set shape (no headers) without. */
function message(offset: number, value: Buffer | null, headers?: IHeaders, key: Buffer | null = null): KafkaMessage {
  const common = { key, value, timestamp: String(1_700_000_000_000 + offset), attributes: 0, offset: String(offset) };
  return headers ? { ...common, headers } : { ...common, size: value?.length ?? 0 };
}

describe('headerText', () => {
  it('matches header names case-insensitively and decodes Buffer values', () => {
    assert.equal(headerText({ 'Content-Type': Buffer.from('application/json') }, 'content-type'), 'application/json');
    assert.equal(headerText({ 'content-type': 'application/json' }, 'CONTENT-TYPE'), 'application/json');
  });
  it('takes the first value of a repeated header', () => {
    assert.equal(headerText({ 'content-type': [Buffer.from('application/json'), Buffer.from('application/x-protobuf')] }, 'content-type'), 'application/json');
  });
  it('is undefined for absent headers, other names and empty arrays', () => {
    assert.equal(headerText(undefined, 'content-type'), undefined);
    assert.equal(headerText({ 'x-content-type': 'application/json' }, 'content-type'), undefined);
    assert.equal(headerText({ 'content-type': [] }, 'content-type'), undefined);
  });
});

describe('detectFormat', () => {
  it('trusts a content-type header naming JSON, whatever the body looks like', () => {
    assert.equal(detectFormat({ 'content-type': 'application/json' }, PROTO_BODY), 'json');
    assert.equal(detectFormat({ 'Content-Type': Buffer.from('Application/JSON; charset=utf-8') }, PROTO_BODY), 'json');
  });
  it('trusts a content-type header naming protobuf, whatever the body looks like', () => {
    assert.equal(detectFormat({ 'content-type': 'application/x-protobuf' }, JSON_BODY), 'protobuf');
    assert.equal(detectFormat({ 'content-type': 'application/protobuf' }, JSON_BODY), 'protobuf');
  });
  it('ignores a content-type it does not know and sniffs the body instead', () => {
    assert.equal(detectFormat({ 'content-type': 'text/plain' }, JSON_BODY), 'json');
    assert.equal(detectFormat({ 'content-type': 'application/jsonx' }, PROTO_BODY), 'protobuf');
    assert.equal(detectFormat({ 'x-other': 'application/json' }, PROTO_BODY), 'protobuf');
  });
  it('sniffs JSON from a first non-blank `{`, skipping JSON whitespace', () => {
    assert.equal(detectFormat(undefined, JSON_BODY), 'json');
    assert.equal(detectFormat(undefined, Buffer.from(' \t\r\n {"resourceSpans":[]}')), 'json');
    assert.equal(detectFormat(undefined, otlpJsonExport(2).body), 'json');
  });
  it('sniffs protobuf from anything else, including a JSON array and a body that only looks blank', () => {
    assert.equal(detectFormat(undefined, PROTO_BODY), 'protobuf');
    assert.equal(detectFormat(undefined, Buffer.from('[{"resourceSpans":[]}]')), 'protobuf');
    assert.equal(detectFormat(undefined, Buffer.from('\u000b{')), 'protobuf'); // vertical tab is not JSON whitespace
  });
  it('calls empty and all-blank bodies protobuf (an empty protobuf message is valid)', () => {
    assert.equal(detectFormat(undefined, new Uint8Array(0)), 'protobuf');
    assert.equal(detectFormat({}, Buffer.from('  \n')), 'protobuf');
  });
});

describe('decodeBatch', () => {
  it('decodes every good message of both encodings, in order', () => {
    const a = otlpJsonExport(10, 2);
    const b = otlpProtoExport(11, 3);
    const out = decodeBatch([message(0, a.body), message(1, b.body, { 'content-type': 'application/x-protobuf' })], otlpDecoder);
    assert.deepEqual(out.spans.map((s) => s.spanId), [...a.spanIds, ...b.spanIds]);
    assert.deepEqual(out.offsets, ['0', '0', '1', '1', '1'], 'each span knows the message it came from');
    assert.equal(out.rejected, 0);
    assert.deepEqual(out.errors, []);
    assert.deepEqual(out.poison, []);
  });

  it('marks undecodable and empty messages poison, keeping their offsets, without losing the good ones around them', () => {
    const good1 = otlpJsonExport(20, 2);
    const good2 = otlpProtoExport(21, 1);
    const garbage = message(5, Buffer.from([0x0a, 0xff, 0xff]));
    const tombstone = message(6, null);
    const out = decodeBatch([message(4, good1.body), garbage, tombstone, message(7, good2.body)], otlpDecoder);
    assert.deepEqual(out.spans.map((s) => s.spanId), [...good1.spanIds, ...good2.spanIds]);
    assert.deepEqual(out.poison.map((p) => p.offset), ['5', '6']);
    assert.equal(out.poison[0]!.message, garbage, 'the original message is kept whole for the DLQ');
    assert.match(out.poison[0]!.error, /not a protobuf ExportTraceServiceRequest/);
    assert.equal(out.poison[1]!.error, 'message has no value');
  });

  it('a body that parses as JSON but is not an export request is poison, not a crash', () => {
    const out = decodeBatch([message(0, Buffer.from('{"resourceSpans": 5}'))], otlpDecoder);
    assert.equal(out.spans.length, 0);
    assert.equal(out.poison.length, 1);
    assert.match(out.poison[0]!.error, /resourceSpans/);
  });

  it('counts spans the decoder rejected inside valid messages without making the message poison', () => {
    const request = JSON.parse(otlpJsonExport(30, 3).body.toString()) as { resourceSpans: { scopeSpans: { spans: { spanId: string }[] }[] }[] };
    request.resourceSpans[0]!.scopeSpans[0]!.spans[1]!.spanId = '0'.repeat(16);
    const out = decodeBatch([message(0, Buffer.from(JSON.stringify(request))), message(1, otlpJsonExport(31, 1).body)], otlpDecoder);
    assert.equal(out.spans.length, 3);
    assert.equal(out.rejected, 1);
    assert.deepEqual(out.errors, ['1 span: span id is all zeros']);
    assert.deepEqual(out.poison, []);
  });

  it('passes the detected format to the decoder and sums rejections across messages', () => {
    const seen: string[] = [];
    const decode: SpanDecoder = (_value, format) => {
      seen.push(format);
      return { spans: [], rejected: 2, errors: [`bad ${seen.length}`] };
    };
    const out = decodeBatch([message(0, JSON_BODY), message(1, PROTO_BODY), message(2, PROTO_BODY, { 'content-type': 'application/json' })], decode);
    assert.deepEqual(seen, ['json', 'protobuf', 'json']);
    assert.equal(out.rejected, 6);
    assert.deepEqual(out.errors, ['bad 1', 'bad 2', 'bad 3']);
  });

  it('turns any thrown value into poison text, including non-Error throws', () => {
    const decode: SpanDecoder = () => {
      throw 'plain string';
    };
    const out = decodeBatch([message(9, JSON_BODY)], decode);
    assert.deepEqual(out.poison.map((p) => [p.offset, p.error]), [['9', 'plain string']]);
  });

  it('an empty batch decodes to nothing', () => {
    assert.deepEqual(decodeBatch([], otlpDecoder), { spans: [], offsets: [], rejected: 0, errors: [], poison: [] });
  });
});

describe('deadLetterOf', () => {
  const original = message(42, Buffer.from('not otlp'), { 'content-type': 'application/x-protobuf', traceparent: Buffer.from('00-abc') }, Buffer.from('key-1'));
  const poison: PoisonMessage = { offset: '42', message: original, error: 'body is not a protobuf ExportTraceServiceRequest' };

  it('keeps key, value, timestamp and original headers, and adds where it came from and why', () => {
    const dl = deadLetterOf(poison, { topic: 'otlp_spans', partition: 3 });
    assert.equal(dl.key, original.key);
    assert.equal(dl.value, original.value);
    assert.equal(dl.timestamp, original.timestamp);
    assert.deepEqual(dl.headers, {
      'content-type': 'application/x-protobuf',
      traceparent: Buffer.from('00-abc'),
      [DLQ_HEADER.error]: 'body is not a protobuf ExportTraceServiceRequest',
      [DLQ_HEADER.sourceTopic]: 'otlp_spans',
      [DLQ_HEADER.sourcePartition]: '3',
      [DLQ_HEADER.sourceOffset]: '42',
    });
  });

  it('does not modify the original message headers', () => {
    deadLetterOf(poison, { topic: 'otlp_spans', partition: 0 });
    assert.deepEqual(Object.keys(original.headers!), ['content-type', 'traceparent']);
  });

  it('works for messages without headers or value', () => {
    const dl = deadLetterOf({ offset: '7', message: message(7, null), error: 'message has no value' }, { topic: 't', partition: 0 });
    assert.equal(dl.value, null);
    assert.equal(dl.headers[DLQ_HEADER.sourceOffset], '7');
    assert.equal(dl.headers[DLQ_HEADER.error], 'message has no value');
  });

  it('replaces chainsight headers carried over from an earlier dead-lettering instead of keeping stale ones', () => {
    const again = message(1, Buffer.from('x'), { [DLQ_HEADER.error]: 'old', [DLQ_HEADER.sourceTopic]: 'elsewhere' });
    const dl = deadLetterOf({ offset: '1', message: again, error: 'new' }, { topic: 'otlp_spans', partition: 2 });
    assert.equal(dl.headers[DLQ_HEADER.error], 'new');
    assert.equal(dl.headers[DLQ_HEADER.sourceTopic], 'otlp_spans');
  });

  it('truncates long error text to 1000 characters and leaves short text whole', () => {
    const long = 'e'.repeat(5000);
    assert.equal((deadLetterOf({ ...poison, error: long }, { topic: 't', partition: 0 }).headers[DLQ_HEADER.error] as string).length, 1000);
    const exact = 'x'.repeat(1000);
    assert.equal(deadLetterOf({ ...poison, error: exact }, { topic: 't', partition: 0 }).headers[DLQ_HEADER.error], exact);
    assert.equal(deadLetterOf({ ...poison, error: '' }, { topic: 't', partition: 0 }).headers[DLQ_HEADER.error], '');
  });
});

describe('deadLetterOfRefusal', () => {
  const refusal = {
    kind: 'actions',
    row: { trace_id: 'ab'.repeat(16), span_id: 'cd'.repeat(8), ts: '2300-01-01' },
    spanIndex: 0,
    error: new StoreError('x'.repeat(5000), true, 'DECIMAL_OVERFLOW'),
  };
  it('carries the row as JSON keyed by trace id, with the error, its code, the table and the source offset', () => {
    const m = deadLetterOfRefusal(refusal, { topic: 't', partition: 3, offset: '42' });
    assert.equal(m.key, 'ab'.repeat(16));
    assert.deepEqual(JSON.parse(m.value), refusal.row);
    assert.equal(headerText(m.headers, DLQ_HEADER.errorCode), 'DECIMAL_OVERFLOW');
    assert.equal(headerText(m.headers, DLQ_HEADER.table), 'actions');
    assert.equal(headerText(m.headers, DLQ_HEADER.sourcePartition), '3');
    assert.equal(headerText(m.headers, DLQ_HEADER.sourceOffset), '42');
    assert.equal(headerText(m.headers, DLQ_HEADER.error)?.length, 1000);
  });
  it('cuts a row too large for the broker, and says so', () => {
    const huge = { ...refusal, row: { trace_id: 'ab', attributes: { k: 'é'.repeat(400_000) } } };
    const m = deadLetterOfRefusal(huge, { topic: 't', partition: 0, offset: '1' });
    assert.ok(Buffer.byteLength(m.value) <= MAX_REFUSED_ROW_BYTES);
    assert.equal(headerText(m.headers, DLQ_HEADER.truncated), 'true');
    assert.equal(headerText(deadLetterOfRefusal(refusal, { topic: 't', partition: 0, offset: '1' }).headers, DLQ_HEADER.truncated), undefined);
  });
  it('has no key for a row without a trace id', () => {
    assert.equal(deadLetterOfRefusal({ ...refusal, row: { link_hash: 'h' } }, { topic: 't', partition: 0, offset: '1' }).key, null);
  });
});

describe('errorText', () => {
  it('uses an Error message', () => {
    assert.equal(errorText(new Error('store down')), 'store down');
    assert.equal(errorText(new OtlpDecodeError('bad body')), 'bad body');
  });
  it('falls back to the error name when the message is empty', () => {
    assert.equal(errorText(new TypeError('')), 'TypeError');
    class Custom extends Error {
      override name = 'CustomFailure';
    }
    assert.equal(errorText(new Custom()), 'CustomFailure');
  });
  it('stringifies non-Error values', () => {
    assert.equal(errorText('boom'), 'boom');
    assert.equal(errorText(42), '42');
    assert.equal(errorText(undefined), 'undefined');
    assert.equal(errorText(null), 'null');
    assert.equal(errorText({ message: 'looks like an error' }), '[object Object]');
  });
});
