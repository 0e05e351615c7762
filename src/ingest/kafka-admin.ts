import { Kafka, logLevel } from 'kafkajs';
import { consoleErrorLogger, kafkajsLogCreator, type KafkaLogger } from './kafka-logging.js';

export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor?: number;
}

/**
 * Creates the topics that are missing and grows the ones with fewer partitions
 * than asked (Kafka cannot shrink them). Safe to run at every startup.
 */
export async function ensureTopics(
  brokers: string[],
  specs: TopicSpec[],
  opts: { clientId?: string; logger?: KafkaLogger } = {},
): Promise<void> {
  const kafka = new Kafka({
    brokers,
    clientId: opts.clientId ?? 'chainsight-admin',
    logLevel: logLevel.WARN,
    logCreator: kafkajsLogCreator(opts.logger ?? consoleErrorLogger),
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.topic));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((s) => ({
          topic: s.topic,
          numPartitions: s.partitions,
          replicationFactor: s.replicationFactor ?? 1,
        })),
      });
    }
    const present = specs.filter((s) => existing.has(s.topic));
    if (present.length > 0) {
      const { topics } = await admin.fetchTopicMetadata({ topics: present.map((s) => s.topic) });
      const grow = present.flatMap((s) => {
        const have = topics.find((t) => t.name === s.topic)?.partitions.length ?? 0;
        return have < s.partitions ? [{ topic: s.topic, count: s.partitions }] : [];
      });
      if (grow.length > 0) await admin.createPartitions({ topicPartitions: grow });
    }
  } finally {
    await admin.disconnect();
  }
}
