import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KafkaMessage } from 'kafkajs';
import { decodeBatch } from '../../src/ingest/kafka-message.js';
import { kafkaReceivedAtMs, receivedTimeReason } from '../../src/verify/received-time.js';
import { otlpDecoder, otlpJsonExport } from '../support/kafka.js';
import { makeSpan } from '../support/spans.js';

const BOUND = { maxAgeSec: 3600, skewSec: 60 };
const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);

describe('receivedTimeReason', () => {
  it('passes a span started within the age bound before it was received', () => {
    assert.equal(receivedTimeReason(makeSpan({ startMs: NOW - 59 * 60_000, receivedAtMs: NOW }), BOUND), undefined);
    assert.equal(receivedTimeReason(makeSpan({ startMs: NOW + 59_000, receivedAtMs: NOW }), BOUND), undefined, 'within the skew');
  });
  it('fails a span older than the bound with time.start_too_old', () => {
    const r = receivedTimeReason(makeSpan({ startMs: NOW - 3601_000, receivedAtMs: NOW }), BOUND);
    assert.equal(r?.code, 'time.start_too_old');
    assert.equal(r?.link, undefined);
  });
  it('fails a span starting after it was received (beyond skew) with time.start_in_future', () => {
    assert.equal(receivedTimeReason(makeSpan({ startMs: NOW + 61_000, receivedAtMs: NOW }), BOUND)?.code, 'time.start_in_future');
  });
  it('leaves spans never received, or without a start (the verifier fails those), alone', () => {
    assert.equal(receivedTimeReason(makeSpan({ startMs: NOW - 10 * 3600_000 }), BOUND), undefined);
    assert.equal(receivedTimeReason(makeSpan({ startMs: NOW - 10 * 3600_000, receivedAtMs: 0 }), BOUND), undefined);
    assert.equal(receivedTimeReason(makeSpan({ startMs: 0, receivedAtMs: NOW }), BOUND), undefined);
    assert.equal(receivedTimeReason(makeSpan({ startMs: NaN, receivedAtMs: NOW }), BOUND), undefined);
  });
});

describe('kafkaReceivedAtMs', () => {
  it('takes the message timestamp', () => {
    assert.equal(kafkaReceivedAtMs(String(NOW - 5000), NOW), NOW - 5000);
  });
  it('never later than the consumer clock (a producer clock ahead cannot make old spans young)', () => {
    assert.equal(kafkaReceivedAtMs(String(NOW + 3600_000), NOW), NOW);
  });
  it('falls back to the consumer clock for missing, negative or garbage timestamps', () => {
    for (const t of [undefined, '-1', '0', 'abc', '1e12', '', '99999999999999999999']) assert.equal(kafkaReceivedAtMs(t, NOW), NOW, String(t));
  });
});

describe('decodeBatch stamps the received time', () => {
  it('from each message timestamp, on every span it carries', () => {
    const body = otlpJsonExport(1, 2).body;
    const messages = [0, 1].map((o): KafkaMessage => ({ key: null, value: body, timestamp: String(NOW - 60_000 * (o + 1)), attributes: 0, offset: String(o), size: body.length }));
    const out = decodeBatch(messages, otlpDecoder, NOW);
    assert.equal(out.spans.length, 4);
    assert.deepEqual(out.spans.map((s) => s.receivedAtMs), [NOW - 60_000, NOW - 60_000, NOW - 120_000, NOW - 120_000]);
  });
});
