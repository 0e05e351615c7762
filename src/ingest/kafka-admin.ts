import kafkajs, { Kafka, logLevel, type Admin } from 'kafkajs';
import {
  checkPlaceable,
  durabilityShortfalls,
  resolveTopicDurability,
  topicConfigEntries,
  type DurabilityShortfall,
  type TopicDurability,
  type TopicState,
} from './kafka-durability.js';
import { consoleErrorLogger, kafkajsLogCreator, type KafkaLogger } from './kafka-logging.js';

export interface TopicSpec {
  topic: string;
  partitions: number;
}

export interface EnsureTopicsOptions {
  clientId?: string;
  logger?: KafkaLogger;
  /** Replication, min.insync.replicas and size limit of every topic; default resolveTopicDurability({}) (one-broker dev setup). */
  durability?: TopicDurability;
}

/**
 * Creates the topics that are missing, with the configured durability, and
 * grows the ones with fewer partitions than asked (Kafka cannot shrink them).
 * Topics that exist with less durability than configured are left as they
 * are and reported: a warning per shortfall, and the returned list. Safe to
 * run at every startup.
 */
export async function ensureTopics(brokers: string[], specs: TopicSpec[], opts: EnsureTopicsOptions = {}): Promise<DurabilityShortfall[]> {
  const durability = opts.durability ?? resolveTopicDurability();
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
      checkPlaceable(durability, (await admin.describeCluster()).brokers.length, missing.map((s) => s.topic));
      await admin.createTopics({
        // kafkajs's own wait asks one broker, which on a cluster may not know
        // the new topic yet and answers UNKNOWN_TOPIC_OR_PARTITION: wait here.
        waitForLeaders: false,
        topics: missing.map((s) => ({
          topic: s.topic,
          numPartitions: s.partitions,
          replicationFactor: durability.replicationFactor,
          configEntries: topicConfigEntries(durability),
        })),
      });
      await waitForLeaders(brokers, missing.map((s) => s.topic));
    }
    const present = specs.filter((s) => existing.has(s.topic));
    if (present.length === 0) return [];
    const states = await describeTopics(admin, present.map((s) => s.topic));
    const grow = present.flatMap((s) => {
      const have = states.get(s.topic)?.partitions ?? 0;
      return have < s.partitions ? [{ topic: s.topic, count: s.partitions }] : [];
    });
    if (grow.length > 0) await admin.createPartitions({ topicPartitions: grow });
    const shortfalls = [...states.values()].flatMap((s) => durabilityShortfalls(durability, s));
    // Never silent: the default Kafka logger drops warnings, so fall back to stderr.
    const warn = opts.logger ? opts.logger.warn.bind(opts.logger) : (obj: object, msg?: string) => console.warn(msg, obj);
    for (const s of shortfalls) {
      warn({ topic: s.topic, setting: s.setting, have: s.have ?? null, want: s.want }, `Kafka topic ${s.topic} has ${s.setting} ${s.have ?? 'unknown'}, below the configured ${s.want}: ${s.consequence}`);
    }
    return shortfalls;
  } finally {
    await admin.disconnect();
  }
}

// An enum kafkajs's CommonJS build exports only on its default object.
const { ConfigResourceTypes } = kafkajs;

const LEADER_WAIT_MS = 30_000;

/**
 * Until every partition of the topics has a leader, as seen by whichever
 * broker answers. Its own client is silent: kafkajs would log each expected
 * UNKNOWN_TOPIC_OR_PARTITION as an error; the last one is in the timeout's message.
 */
async function waitForLeaders(brokers: string[], topics: string[]): Promise<void> {
  const admin = new Kafka({ brokers, clientId: 'chainsight-admin', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await pollLeaders(admin, topics);
  } finally {
    await admin.disconnect();
  }
}

async function pollLeaders(admin: Admin, topics: string[]): Promise<void> {
  const deadline = Date.now() + LEADER_WAIT_MS;
  let last: unknown;
  for (;;) {
    try {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
      if (metadata.length === topics.length && metadata.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
      last = 'partitions without a leader';
    } catch (err) {
      // A broker that has not caught up with the controller yet; any other error repeats until the deadline.
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`topics ${topics.join(', ')} have no leader after ${LEADER_WAIT_MS} ms: ${String(last)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Partition count, replica count and the effective durability configs of existing topics. */
async function describeTopics(admin: Admin, topics: string[]): Promise<Map<string, TopicState & { partitions: number }>> {
  const [{ topics: metadata }, configs] = await Promise.all([
    admin.fetchTopicMetadata({ topics }),
    admin.describeConfigs({
      includeSynonyms: false,
      resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['min.insync.replicas', 'max.message.bytes'] })),
    }),
  ]);
  const out = new Map<string, TopicState & { partitions: number }>();
  for (const t of metadata) {
    const entries = configs.resources.find((r) => r.resourceName === t.name)?.configEntries ?? [];
    const num = (name: string): number | undefined => {
      const v = entries.find((e) => e.configName === name)?.configValue;
      return v === undefined || v === null || v === '' ? undefined : Number(v);
    };
    out.set(t.name, {
      topic: t.name,
      partitions: t.partitions.length,
      replicationFactor: Math.min(...t.partitions.map((p) => p.replicas.length)),
      minInsyncReplicas: num('min.insync.replicas'),
      maxMessageBytes: num('max.message.bytes'),
    });
  }
  return out;
}
