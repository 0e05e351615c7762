import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_INGEST_LIMITS, LimitError, resolveIngestLimits } from '../../src/ingest/limits.js';
import { decimalNanosToMs, jsonNanosToDecimal, u64NanosToMs, u64ToDecimal } from '../../src/ingest/otlp/nanos.js';

describe('u64ToDecimal', () => {
  it('matches BigInt for any 64-bit value', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (v) => {
        const lo = Number(v & 0xffffffffn);
        const hi = Number(v >> 32n);
        assert.equal(u64ToDecimal(lo, hi), v.toString());
      }),
      { numRuns: 5000 },
    );
  });

  it('is exact for realistic nanosecond timestamps and the edges', () => {
    for (const v of [0n, 1n, (1n << 53n) - 1n, 1n << 53n, 1_700_000_000_123_456_789n, (1n << 64n) - 1n]) {
      assert.equal(u64ToDecimal(Number(v & 0xffffffffn), Number(v >> 32n)), v.toString());
    }
  });

  it('accepts signed 32-bit words as protobufjs may hand them', () => {
    const v = 1_700_000_000_123_456_789n;
    const lo = Number(v & 0xffffffffn) | 0; // negative when bit 31 is set
    const hi = Number(v >> 32n) | 0;
    assert.equal(u64ToDecimal(lo, hi), v.toString());
  });

  it('gives rounded milliseconds', () => {
    const v = 1_700_000_000_123_556_789n;
    assert.equal(u64NanosToMs(Number(v & 0xffffffffn), Number(v >> 32n)), 1_700_000_000_124);
    assert.equal(decimalNanosToMs(v.toString()), 1_700_000_000_124);
  });
});

describe('jsonNanosToDecimal', () => {
  it('takes decimal strings and numbers', () => {
    assert.equal(jsonNanosToDecimal('1700000000123456789'), '1700000000123456789');
    assert.equal(jsonNanosToDecimal('000123'), '123');
    assert.equal(jsonNanosToDecimal('0'), '0');
    assert.equal(jsonNanosToDecimal(1_700_000_000), '1700000000');
    assert.equal(jsonNanosToDecimal('18446744073709551615'), '18446744073709551615');
  });
  it('refuses anything else', () => {
    for (const bad of ['-1', '1e9', '', ' 1', '18446744073709551616', -5, 1.5e20, Number.NaN, null, {}, true]) {
      assert.equal(jsonNanosToDecimal(bad), null, `accepted ${String(bad)}`);
    }
  });
});

describe('resolveIngestLimits', () => {
  it('fills defaults and applies overrides', () => {
    assert.deepEqual(resolveIngestLimits(), { ...DEFAULT_INGEST_LIMITS });
    assert.equal(resolveIngestLimits({ maxSpansPerRequest: 7 }).maxSpansPerRequest, 7);
    assert.equal(resolveIngestLimits({ maxSpansPerRequest: 7 }).maxBodyBytes, DEFAULT_INGEST_LIMITS.maxBodyBytes);
  });
  it('refuses non-positive, fractional and unknown limits', () => {
    assert.throws(() => resolveIngestLimits({ maxBodyBytes: 0 }), /positive integer/);
    assert.throws(() => resolveIngestLimits({ maxBodyBytes: 1.5 }), /positive integer/);
    assert.throws(() => resolveIngestLimits({ nope: 1 } as never), /unknown ingest limit/);
  });
  it('LimitError is a 413', () => {
    const err = new LimitError('maxBodyBytes', 'too big');
    assert.equal(err.status, 413);
    assert.equal(err.limit, 'maxBodyBytes');
  });
});
