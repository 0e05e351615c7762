/** ensureTopics against a real broker: durability settings on new topics, shortfalls of existing ones reported, impossible ones refused. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { ensureTopics } from '../../src/ingest/kafka-admin.js';
import { DurabilityConfigError, resolveTopicDurability } from '../../src/ingest/kafka-durability.js';
import { kafkaBrokers, recordingLogger, releaseKafka, testKafka, uniqueTopic } from '../support/kafka.js';

after(() => releaseKafka());

async function topicConfigs(brokers: string[], topic: string): Promise<Map<string, { value: string; fromTopic: boolean }>> {
  const admin = testKafka(brokers).admin();
  await admin.connect();
  try {
    const res = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configNames: ['min.insync.replicas', 'max.message.bytes'] }],
    });
    // ConfigSource 1 = TOPIC_CONFIG: set on the topic itself, not inherited from the broker.
    return new Map(res.resources[0]!.configEntries.map((e) => [e.configName, { value: e.configValue, fromTopic: Number(e.configSource) === 1 }]));
  } finally {
    await admin.disconnect();
  }
}

async function createBare(brokers: string[], topic: string, configEntries: { name: string; value: string }[] = []): Promise<void> {
  const admin = testKafka(brokers).admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, replicationFactor: 1, configEntries }] });
  } finally {
    await admin.disconnect();
  }
}

test('a new topic gets min.insync.replicas and max.message.bytes as its own configs', async (t) => {
  const brokers = await kafkaBrokers();
  if (typeof brokers === 'string') return t.skip(brokers);
  const topic = uniqueTopic('durable');
  const durability = resolveTopicDurability({ maxMessageBytes: 12 * 1024 * 1024 });
  const log = recordingLogger();
  assert.deepEqual(await ensureTopics(brokers, [{ topic, partitions: 2 }], { durability, logger: log }), []);
  const configs = await topicConfigs(brokers, topic);
  assert.deepEqual(configs.get('max.message.bytes'), { value: String(12 * 1024 * 1024), fromTopic: true });
  assert.deepEqual(configs.get('min.insync.replicas'), { value: '1', fromTopic: true });
  assert.deepEqual(await ensureTopics(brokers, [{ topic, partitions: 2 }], { durability, logger: log }), [], 'a second start finds nothing short');
  assert.equal(log.lines.length, 0);
});

test('an existing topic with less durability than configured is warned about and left as it is', async (t) => {
  const brokers = await kafkaBrokers();
  if (typeof brokers === 'string') return t.skip(brokers);
  const topic = uniqueTopic('legacy');
  await createBare(brokers, topic, [{ name: 'max.message.bytes', value: '1000000' }]);
  const log = recordingLogger();
  const shortfalls = await ensureTopics(brokers, [{ topic, partitions: 1 }], { durability: resolveTopicDurability({ replicationFactor: 3 }), logger: log });
  assert.deepEqual(shortfalls.map((s) => [s.setting, s.have, s.want]), [
    ['replication.factor', 1, 3],
    ['min.insync.replicas', 1, 2],
    ['max.message.bytes', 1_000_000, 10 * 1024 * 1024],
  ]);
  assert.equal(log.lines.length, 3);
  assert.ok(log.lines.every((l) => l.level === 'warn'));
  assert.match(log.lines[0]!.msg, new RegExp(`Kafka topic ${topic} has replication.factor 1, below the configured 3`));
  assert.equal((await topicConfigs(brokers, topic)).get('max.message.bytes')?.value, '1000000', 'not altered behind the operator');
});

test('a replication factor the cluster cannot place is refused with the broker count, and nothing is created', async (t) => {
  const brokers = await kafkaBrokers();
  if (typeof brokers === 'string') return t.skip(brokers);
  const topic = uniqueTopic('unplaceable');
  await assert.rejects(
    ensureTopics(brokers, [{ topic, partitions: 1 }], { durability: resolveTopicDurability({ replicationFactor: 3 }) }),
    (err: unknown) => err instanceof DurabilityConfigError && /replication factor 3: the cluster has 1 broker/.test(err.message),
  );
  const admin = testKafka(brokers).admin();
  await admin.connect();
  try {
    assert.ok(!(await admin.listTopics()).includes(topic));
  } finally {
    await admin.disconnect();
  }
});
