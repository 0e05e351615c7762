import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ensureTopics, KafkaSourceCounters, KafkaSpanSource, type SpanDecoder } from '../../src/ingest/kafka-source.js';
import { DLQ_HEADER, headerText } from '../../src/ingest/kafka-message.js';
import {
  committedOffsets,
  kafkaBrokers,
  otlpDecoder,
  otlpJsonExport,
  otlpProtoExport,
  produce,
  readTopic,
  recordingLogger,
  RecordingSink,
  releaseKafka,
  highWatermarks,
  uniqueTopic,
  waitFor,
} from '../support/kafka.js';

let brokers: string[] = [];
let skipReason: string | undefined;
// The real decoder: these tests also show decodeOtlp and the Kafka source agree on both encodings.
const decode: SpanDecoder = otlpDecoder;

before(async () => {
  const found = await kafkaBrokers();
  if (typeof found === 'string') skipReason = found;
  else brokers = found;
});

after(async () => {
  await releaseKafka();
});

/** Topics and a source wired the way every test here wants them: short timings, fast retries. */
async function setup(partitions: number): Promise<{ topic: string; dlq: string; groupId: string }> {
  const topic = uniqueTopic('spans');
  const dlq = `${topic}.dlq`;
  await ensureTopics(brokers, [
    { topic, partitions },
    { topic: dlq, partitions: 1 },
  ]);
  return { topic, dlq, groupId: uniqueTopic('group') };
}

function source(topic: string, groupId: string, sink: RecordingSink, metrics = new KafkaSourceCounters()): KafkaSpanSource {
  return new KafkaSpanSource({
    brokers,
    groupId,
    topic,
    sink,
    decode,
    metrics,
    logger: recordingLogger(),
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 500,
    retry: { initialMs: 20, maxMs: 200 },
  });
}

describe('KafkaSpanSource against a real broker', () => {
  test('two members of one group share a 4-partition topic; every span (JSON and protobuf) arrives once; offsets are committed', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const { topic, groupId } = await setup(4);
    const sinkA = new RecordingSink();
    const sinkB = new RecordingSink();
    const a = source(topic, groupId, sinkA);
    const b = source(topic, groupId, sinkB);
    try {
      await a.start();
      await b.start();
      // The first member rebalances when it next heartbeats after the second joins.
      await waitFor('both members to hold two partitions', () => a.assignment().length === 2 && b.assignment().length === 2);
      assert.deepEqual([...a.assignment(), ...b.assignment()].sort(), [0, 1, 2, 3]);
      const joinsBefore = a.groupJoins() + b.groupJoins();

      const expected = new Set<string>();
      const messages = [];
      for (let i = 0; i < 20; i++) {
        // Both Collector encodings, told apart by sniffing (no content-type header).
        const { body, spanIds } = i % 2 === 0 ? otlpJsonExport(i + 1) : otlpProtoExport(i + 1);
        spanIds.forEach((id) => expected.add(id));
        messages.push({ partition: i % 4, value: body });
      }
      await produce(brokers, topic, messages);

      await waitFor('all spans in the sinks', () => sinkA.spans.length + sinkB.spans.length >= expected.size);
      const seen = new Set([...sinkA.spanIds(), ...sinkB.spanIds()]);
      assert.deepEqual(seen, expected);
      // Delivery is at-least-once (the store keeps one row per span): a batch in
      // flight when a late rebalance hits is redelivered to the partition's new
      // owner. Without a rebalance, nothing may arrive twice.
      const rebalanced = a.groupJoins() + b.groupJoins() > joinsBefore;
      if (!rebalanced) assert.equal(sinkA.spans.length + sinkB.spans.length, expected.size, 'no span delivered twice');
      assert.ok(sinkA.spans.length > 0 && sinkB.spans.length > 0, 'both members did work');
      for (const span of [...sinkA.spans, ...sinkB.spans]) {
        assert.equal(span.taskId, 'task-kafka', `attributes decoded from span ${span.spanId}`);
        assert.equal(span.serviceName, 'kafka-test-agent');
      }

      await waitFor('offsets committed on every partition', async () => {
        const offsets = await committedOffsets(brokers, groupId, topic);
        return [0, 1, 2, 3].every((p) => offsets.get(p) === 5);
      });
      const metricsA = a.metrics as KafkaSourceCounters;
      const metricsB = b.metrics as KafkaSourceCounters;
      if (!rebalanced) {
        assert.equal(metricsA.consumed + metricsB.consumed, 20);
        assert.equal(metricsA.ingested + metricsB.ingested, expected.size);
      } else {
        assert.ok(metricsA.consumed + metricsB.consumed >= 20);
      }
      assert.ok(metricsA.commits > 0 && metricsB.commits > 0);
      assert.equal(metricsA.deadLetteredCount + metricsB.deadLetteredCount, 0);
      for (const lag of [...metricsA.lagByPartition.values(), ...metricsB.lagByPartition.values()]) {
        assert.ok(lag >= 0);
      }
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  test('undecodable messages go to the DLQ with error and source headers; the valid ones around them are ingested', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const { topic, dlq, groupId } = await setup(1);
    const sink = new RecordingSink();
    const metrics = new KafkaSourceCounters();
    const src = source(topic, groupId, sink, metrics);

    const valid = [otlpJsonExport(101), otlpJsonExport(102), otlpJsonExport(103)];
    const badJson = Buffer.from('{"resourceSpans": [ truncated');
    // A length-delimited field claiming far more bytes than follow: no protobuf reader accepts it.
    const badProto = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]);
    await produce(brokers, topic, [
      { value: valid[0]!.body }, // offset 0
      { value: badJson }, // offset 1
      { value: valid[1]!.body }, // offset 2
      { value: badProto, headers: { 'content-type': 'application/x-protobuf', origin: 'collector-7' } }, // offset 3
      { value: valid[2]!.body }, // offset 4
    ]);
    try {
      await src.start();
      await waitFor('valid spans ingested', () => sink.spans.length >= 6);
      assert.deepEqual(sink.spanIds(), new Set(valid.flatMap((v) => v.spanIds)));

      const dead = await readTopic(brokers, dlq, 2);
      const byOffset = new Map(dead.map((m) => [headerText(m.headers, DLQ_HEADER.sourceOffset), m]));
      assert.deepEqual([...byOffset.keys()].sort(), ['1', '3']);
      const json = byOffset.get('1')!;
      assert.deepEqual(json.value, badJson);
      assert.equal(headerText(json.headers, DLQ_HEADER.sourceTopic), topic);
      assert.equal(headerText(json.headers, DLQ_HEADER.sourcePartition), '0');
      assert.ok((headerText(json.headers, DLQ_HEADER.error) ?? '').length > 0);
      const proto = byOffset.get('3')!;
      assert.deepEqual(proto.value, badProto);
      assert.equal(headerText(proto.headers, 'origin'), 'collector-7', 'original headers kept');
      assert.equal(headerText(proto.headers, 'content-type'), 'application/x-protobuf');
      assert.ok((headerText(proto.headers, DLQ_HEADER.error) ?? '').length > 0);

      // Only the two poison messages were dead-lettered, and the partition moved past all five.
      assert.equal((await highWatermarks(brokers, dlq)).get(0), 2);
      assert.equal(metrics.deadLetteredCount, 2);
      await waitFor('offset committed past the batch', async () => (await committedOffsets(brokers, groupId, topic)).get(0) === 5);
    } finally {
      await src.stop();
    }
  });

  test('a failing sink blocks commits; retries show in metrics; after recovery everything arrives exactly once', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const { topic, groupId } = await setup(1);
    const sink = new RecordingSink();
    sink.failForever();
    const metrics = new KafkaSourceCounters();
    const src = source(topic, groupId, sink, metrics);
    const sent = [1, 2, 3, 4].map((n) => otlpJsonExport(200 + n));
    await produce(brokers, topic, sent.map((s) => ({ value: s.body })));
    try {
      await src.start();
      await waitFor('three failed sink calls', () => sink.failures >= 3);
      assert.equal(sink.spans.length, 0);
      assert.ok(metrics.retries.sink >= 3);
      assert.equal((await committedOffsets(brokers, groupId, topic)).get(0), -1, 'nothing committed while the sink fails');
      assert.equal(metrics.commits, 0);
      assert.deepEqual(src.pausedPartitions(), [0], 'partition paused while the sink fails');

      sink.recover();
      const expected = new Set(sent.flatMap((s) => s.spanIds));
      await waitFor('all spans after recovery', () => sink.spans.length >= expected.size);
      assert.deepEqual(sink.spanIds(), expected);
      assert.equal(sink.spans.length, expected.size, 'retried spans were not ingested twice');
      assert.equal(metrics.retries.sink, sink.failures);
      await waitFor('offset committed after recovery', async () => (await committedOffsets(brokers, groupId, topic)).get(0) === 4);
      assert.deepEqual(src.pausedPartitions(), [], 'resumed after recovery');
    } finally {
      await src.stop();
    }
  });

  test('a member retrying longer than its session timeout keeps heartbeating and is not evicted', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const { topic, groupId } = await setup(1);
    const sink = new RecordingSink();
    sink.failForever();
    // 6s is the broker's smallest allowed session timeout (group.min.session.timeout.ms).
    const src = new KafkaSpanSource({
      brokers, groupId, topic, sink, decode, logger: recordingLogger(),
      sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000, retry: { initialMs: 500, maxMs: 4_000 },
    });
    const sent = otlpJsonExport(400);
    await produce(brokers, topic, [{ value: sent.body }]);
    try {
      await src.start();
      await waitFor('the first failure', () => sink.failures >= 1);
      const failingSince = Date.now();
      // Stay in the retry loop for well over one session timeout.
      await waitFor('9s of failing', () => Date.now() - failingSince > 9_000, 15_000);
      sink.recover();
      await waitFor('spans after recovery', () => sink.spans.length >= sent.spanIds.length);
      // An evicted member's commit fails and it rejoins; a kept one commits with its first generation.
      await waitFor('offset committed', async () => (await committedOffsets(brokers, groupId, topic)).get(0) === 1, 15_000);
      assert.equal(sink.spans.length, sent.spanIds.length, 'not redelivered');
      assert.equal(src.groupJoins(), 1, 'no rebalance: the member was never evicted');
      assert.deepEqual(src.assignment(), [0]);
    } finally {
      await src.stop();
    }
  });

  test('a member stopped before it could commit leaves its messages for the next member of the group', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const { topic, groupId } = await setup(1);
    const sent = [1, 2, 3].map((n) => otlpJsonExport(300 + n));
    await produce(brokers, topic, sent.map((s) => ({ value: s.body })));

    const downSink = new RecordingSink();
    downSink.failForever();
    const first = source(topic, groupId, downSink);
    await first.start();
    try {
      await waitFor('the first member to be retrying', () => downSink.failures >= 1);
    } finally {
      await first.stop();
    }
    assert.equal(downSink.spans.length, 0);
    assert.equal((await committedOffsets(brokers, groupId, topic)).get(0), -1, 'stop did not commit');

    const sink = new RecordingSink();
    const second = source(topic, groupId, sink);
    try {
      await second.start();
      const expected = new Set(sent.flatMap((s) => s.spanIds));
      await waitFor('redelivered spans', () => sink.spans.length >= expected.size);
      assert.deepEqual(sink.spanIds(), expected);
      await waitFor('offset committed by the second member', async () => (await committedOffsets(brokers, groupId, topic)).get(0) === 3);
    } finally {
      await second.stop();
    }
  });
});
