import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/config.js';
import {
  checkPlaceable,
  DEFAULT_MAX_MESSAGE_BYTES,
  DurabilityConfigError,
  durabilityShortfalls,
  resolveTopicDurability,
  topicConfigEntries,
} from '../../src/ingest/kafka-durability.js';

test('defaults fit one broker; min.insync.replicas defaults to a majority of the replicas', () => {
  assert.deepEqual(resolveTopicDurability(), { replicationFactor: 1, minInsyncReplicas: 1, maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES });
  const majority = [1, 2, 3, 4, 5].map((rf) => resolveTopicDurability({ replicationFactor: rf }).minInsyncReplicas);
  assert.deepEqual(majority, [1, 2, 2, 3, 3]);
  assert.equal(resolveTopicDurability({ replicationFactor: 3, minInsyncReplicas: 1 }).minInsyncReplicas, 1, 'an explicit value wins');
});

test('min.insync.replicas above the replication factor is refused, naming the consequence', () => {
  assert.throws(() => resolveTopicDurability({ replicationFactor: 2, minInsyncReplicas: 3 }), (err: unknown) => {
    assert.ok(err instanceof DurabilityConfigError);
    assert.match(err.message, /min\.insync\.replicas \(3\) exceeds the replication factor \(2\).*NOT_ENOUGH_REPLICAS/);
    return true;
  });
  assert.equal(resolveTopicDurability({ replicationFactor: 3, minInsyncReplicas: 3 }).minInsyncReplicas, 3, 'equal is allowed');
});

test('out-of-range values are refused', () => {
  for (const bad of [{ replicationFactor: 0 }, { replicationFactor: 1.5 }, { replicationFactor: 40_000 }, { minInsyncReplicas: 0 }, { maxMessageBytes: 10 }, { maxMessageBytes: 2 ** 31 }]) {
    assert.throws(() => resolveTopicDurability(bad), DurabilityConfigError, JSON.stringify(bad));
  }
});

test('config reads the three variables and refuses an incoherent pair at load', () => {
  const c = loadConfig({ CHAINSIGHT_KAFKA_REPLICATION_FACTOR: '3', CHAINSIGHT_KAFKA_MIN_INSYNC_REPLICAS: '2', CHAINSIGHT_KAFKA_MAX_MESSAGE_BYTES: '20971520' });
  assert.deepEqual(c.kafka.durability, { replicationFactor: 3, minInsyncReplicas: 2, maxMessageBytes: 20_971_520 });
  assert.deepEqual(loadConfig({}).kafka.durability, resolveTopicDurability());
  assert.throws(() => loadConfig({ CHAINSIGHT_KAFKA_MIN_INSYNC_REPLICAS: '2' }), /exceeds the replication factor \(1\)/);
  assert.throws(() => loadConfig({ CHAINSIGHT_KAFKA_REPLICATION_FACTOR: 'three' }), /CHAINSIGHT_KAFKA_REPLICATION_FACTOR/);
});

test('new topics carry min.insync.replicas and max.message.bytes as topic configs', () => {
  assert.deepEqual(topicConfigEntries(resolveTopicDurability({ replicationFactor: 3 })), [
    { name: 'min.insync.replicas', value: '2' },
    { name: 'max.message.bytes', value: String(DEFAULT_MAX_MESSAGE_BYTES) },
  ]);
});

test('an existing topic with less durability than configured is reported, setting by setting', () => {
  const want = resolveTopicDurability({ replicationFactor: 3 });
  assert.deepEqual(durabilityShortfalls(want, { topic: 't', replicationFactor: 3, minInsyncReplicas: 2, maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES }), []);
  assert.deepEqual(durabilityShortfalls(want, { topic: 't', replicationFactor: 5, minInsyncReplicas: 3, maxMessageBytes: 2 ** 30 }), [], 'more than asked is fine');
  const low = durabilityShortfalls(want, { topic: 't', replicationFactor: 1, minInsyncReplicas: 1, maxMessageBytes: 1_048_588 });
  assert.deepEqual(low.map((s) => [s.setting, s.have, s.want]), [['replication.factor', 1, 3], ['min.insync.replicas', 1, 2], ['max.message.bytes', 1_048_588, DEFAULT_MAX_MESSAGE_BYTES]]);
  assert.match(low[0]!.consequence, /kafka-reassign-partitions/);
  assert.match(low[1]!.consequence, /--add-config min\.insync\.replicas=2/);
  const unknown = durabilityShortfalls(want, { topic: 't', replicationFactor: 3 });
  assert.deepEqual(unknown.map((s) => s.setting), ['min.insync.replicas', 'max.message.bytes'], 'a setting the broker did not report counts as short');
});

test('a replication factor above the broker count is refused before creating anything', () => {
  const rf3 = resolveTopicDurability({ replicationFactor: 3 });
  assert.throws(() => checkPlaceable(rf3, 1, ['otlp_spans', 'otlp_spans.dlq']), /cannot create otlp_spans, otlp_spans\.dlq with replication factor 3: the cluster has 1 broker/);
  assert.doesNotThrow(() => checkPlaceable(rf3, 3, ['otlp_spans']));
  assert.doesNotThrow(() => checkPlaceable(rf3, 1, []), 'nothing to create');
});
