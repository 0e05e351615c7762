import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveIngestLimits } from '../../src/ingest/limits.js';
import { decodeOtlp } from '../../src/ingest/otlp/index.js';
import { RAW_VALUE_KEYS } from '../../src/ingest/otlp/mapping.js';
import { MAX_STORABLE_NS, storableNanos } from '../../src/ingest/otlp/nanos.js';
import { nsToDateTime64 } from '../../src/correlate/time.js';
import type { AgentSpan } from '../../src/model/span.js';
import { hostileCases, jsonBody, protobufBody } from '../support/hostile.js';

const limits = resolveIngestLimits();
const cases = hostileCases('task-normalise', 1);
const byName = (name: string) => cases.find((c) => c.name === name)!;

function decodeCase(name: string, encoding: 'json' | 'protobuf'): AgentSpan {
  const span = byName(name).span;
  const body = encoding === 'json' ? jsonBody([span]) : protobufBody([span]);
  const r = decodeOtlp(body, encoding, limits);
  assert.equal(r.rejected, 0, r.errors.join('; '));
  assert.equal(r.spans.length, 1);
  return r.spans[0]!;
}

describe('times the store cannot hold', () => {
  for (const encoding of ['json', 'protobuf'] as const) {
    it(`${encoding}: a start past 2^63-1 ns is clamped, kept raw and flagged; the end follows`, () => {
      const s = decodeCase('start 2^64-1 ns', encoding);
      assert.equal(s.startNs, MAX_STORABLE_NS);
      assert.equal(s.attributes[RAW_VALUE_KEYS.startTime], '18446744073709551615');
      // The end (now) is before the clamped start: set to it, raw kept.
      assert.equal(s.endNs, MAX_STORABLE_NS);
      assert.ok(s.attributes[RAW_VALUE_KEYS.endTime]);
      assert.deepEqual(s.ingestIssues?.map((r) => r.code), ['span.time_out_of_range', 'span.time_out_of_range']);
      // Time rules still judge the time as sent.
      assert.ok(s.startMs > Date.UTC(2500, 0, 1));
    });
    it(`${encoding}: year 2300 and 2^63 are flagged; 2^63-1 is not`, () => {
      assert.equal(decodeCase('start in 2300', encoding).ingestIssues?.length, 2);
      assert.equal(decodeCase('just past 2^63 ns', encoding).startNs, MAX_STORABLE_NS);
      assert.equal(storableNanos('9223372036854775807'), true);
      assert.equal(storableNanos('9223372036854775808'), false);
      assert.equal(storableNanos('10000000000000000000'), false);
    });
    it(`${encoding}: an end before the start is set to the start and flagged`, () => {
      const s = decodeCase('end before start', encoding);
      assert.equal(s.endNs, s.startNs);
      assert.deepEqual(s.ingestIssues?.map((r) => r.code), ['span.time_out_of_range']);
      assert.match(s.ingestIssues![0]!.message, /before start/);
    });
    it(`${encoding}: a well-formed span is left alone`, () => {
      const s = decodeCase('time 0', encoding);
      assert.equal(s.ingestIssues, undefined);
      assert.equal(Object.keys(s.attributes).some((k) => k.startsWith('chainsight.ingest.')), false);
      assert.equal(s.startNs, '0');
    });
    it(`${encoding}: kind and status outside OTLP's enums become 0, raw kept, verdict untouched`, () => {
      const s = decodeCase('kind 99, status 7', encoding);
      assert.equal(s.kind, 0);
      assert.equal(s.statusCode, 0);
      assert.equal(s.attributes[RAW_VALUE_KEYS.kind], '99');
      assert.equal(s.attributes[RAW_VALUE_KEYS.statusCode], '7');
      assert.equal(s.ingestIssues, undefined);
    });
    it(`${encoding}: senders cannot set chainsight.ingest.* attributes`, () => {
      const s = decodeCase('spoofed chainsight.ingest.* attribute', encoding);
      assert.equal(s.attributes[RAW_VALUE_KEYS.startTime], undefined);
    });
  }
  it('json: a negative or huge kind is repaired', () => {
    assert.equal(decodeCase('negative kind', 'json').kind, 0);
    assert.equal(decodeCase('kind 1e300', 'json').attributes[RAW_VALUE_KEYS.kind], '1e+300');
  });
});

describe('nsToDateTime64', () => {
  it('passes 19-digit times up to 2^63-1 as they are and clamps beyond', () => {
    assert.equal(nsToDateTime64('9223372036854775807'), '9223372036854775807');
    assert.equal(nsToDateTime64('9223372036854775808'), '2262-04-11 23:47:16.854775807');
    assert.equal(nsToDateTime64('18446744073709551615'), '2262-04-11 23:47:16.854775807');
    assert.equal(nsToDateTime64('5'), '1970-01-01 00:00:00.000000005');
  });
});
