import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KafkaMessage } from 'kafkajs';
import { authenticateBatch, decodeBatch } from '../../src/ingest/kafka-message.js';
import type { PeerResult } from '../../src/ingest/peer-identity.js';
import { makeSpan } from '../support/spans.js';

const A = 'spiffe://acme.example/agent/a';
const msg = (offset: string, headers: KafkaMessage['headers'], timestamp = '1800000000000'): KafkaMessage =>
  ({ offset, key: null, value: Buffer.from(offset), timestamp, attributes: 0, size: 0, headers }) as KafkaMessage;
// Two spans per message, so the mapping by offset is exercised.
const decode = (value: Buffer) => ({ spans: [makeSpan({ spanId: `${value}`.padStart(16, '0') }), makeSpan()], rejected: 0, errors: [] });

test('each record\'s authorization header proves the sender of its own spans, verified once per token and at the record\'s time', async () => {
  const messages = [
    msg('1', { authorization: Buffer.from('Bearer good') }),
    msg('2', {}),
    msg('3', { authorization: 'Bearer bad' }),
    msg('4', { authorization: 'Basic xyz' }),
    msg('5', { authorization: Buffer.from('Bearer good') }),
  ];
  const decoded = decodeBatch(messages, decode as never, 1_900_000_000_000);
  const calls: Array<[string, number]> = [];
  await authenticateBatch(messages, decoded, async (token, at): Promise<PeerResult> => {
    calls.push([token, at]);
    return token === 'good' ? { ok: true, peer: { id: A, method: 'jwt-svid' } } : { ok: false, error: 'signature or claims invalid' };
  }, 1_900_000_000_000);
  assert.deepEqual(calls, [['good', 1_800_000_000_000], ['bad', 1_800_000_000_000]]);
  const by = (i: number) => decoded.spans[i]!;
  assert.deepEqual([by(0).peer, by(1).peer, by(8).peer], [{ id: A, method: 'jwt-svid' }, { id: A, method: 'jwt-svid' }, { id: A, method: 'jwt-svid' }]);
  assert.deepEqual([by(2).peer, by(2).peerError, by(3).peerError], [undefined, undefined, undefined]);
  assert.equal(by(4).peerError, 'signature or claims invalid');
  assert.match(by(6).peerError ?? '', /not "Bearer <JWT-SVID>"/);
});

test('a check that throws fails only its own record', async () => {
  const messages = [msg('1', { authorization: 'Bearer boom' }), msg('2', {})];
  const decoded = decodeBatch(messages, decode as never);
  await authenticateBatch(messages, decoded, () => Promise.reject(new Error('boom')));
  assert.match(decoded.spans[0]!.peerError ?? '', /cannot verify the token: .*boom/);
  assert.equal(decoded.spans[2]!.peerError, undefined);
});
