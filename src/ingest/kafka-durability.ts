/**
 * How durable chainsight's Kafka topics are: replication factor,
 * min.insync.replicas and the largest record batch they take. Pure: the
 * settings are validated here and compared with what a cluster reports;
 * kafka-admin.ts does the I/O.
 */

export interface TopicDurability {
  /** Copies of every partition. 1 fits a one-broker dev setup; production wants 3. */
  replicationFactor: number;
  /**
   * Replicas that must hold a record before a producer with acks=all (the
   * gateway) is answered. An acknowledged record survives the loss of
   * minInsyncReplicas − 1 brokers; writes stop when fewer are in sync.
   */
  minInsyncReplicas: number;
  /** The topic's max.message.bytes: the largest record batch (after compression) it accepts. */
  maxMessageBytes: number;
}

/**
 * 10 MiB: above the gateway's producer limit (9 MiB, collectors/gateway.yaml),
 * which is above its largest record (one 8 MiB batch's trace plus its key),
 * leaving room for gzip framing on incompressible data.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

/** Kafka's own floor for max.message.bytes is 0, but a topic must at least hold a record batch header. */
const MIN_MAX_MESSAGE_BYTES = 1024;

export class DurabilityConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DurabilityConfigError';
  }
}

/**
 * Fills defaults and refuses settings Kafka would refuse or that would make
 * every acks=all write fail. The default min.insync.replicas is a majority
 * of the replicas (1 of 1, 2 of 2, 2 of 3, 3 of 5): an acknowledged record
 * is on most copies, and writes continue while a minority is down.
 */
export function resolveTopicDurability(input: Partial<TopicDurability> = {}): TopicDurability {
  const replicationFactor = input.replicationFactor ?? 1;
  if (!Number.isSafeInteger(replicationFactor) || replicationFactor < 1 || replicationFactor > 32767) {
    throw new DurabilityConfigError(`replication factor must be an integer from 1 to 32767, got ${String(replicationFactor)}`);
  }
  const minInsyncReplicas = input.minInsyncReplicas ?? Math.floor(replicationFactor / 2) + 1;
  if (!Number.isSafeInteger(minInsyncReplicas) || minInsyncReplicas < 1) {
    throw new DurabilityConfigError(`min.insync.replicas must be a positive integer, got ${String(minInsyncReplicas)}`);
  }
  if (minInsyncReplicas > replicationFactor) {
    throw new DurabilityConfigError(
      `min.insync.replicas (${minInsyncReplicas}) exceeds the replication factor (${replicationFactor}): every acks=all write would fail with NOT_ENOUGH_REPLICAS`,
    );
  }
  const maxMessageBytes = input.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes < MIN_MAX_MESSAGE_BYTES || maxMessageBytes > 2 ** 31 - 1) {
    throw new DurabilityConfigError(`max.message.bytes must be an integer from ${MIN_MAX_MESSAGE_BYTES} to ${2 ** 31 - 1}, got ${String(maxMessageBytes)}`);
  }
  return { replicationFactor, minInsyncReplicas, maxMessageBytes };
}

/** Topic-level configs set when chainsight creates a topic. */
export function topicConfigEntries(d: TopicDurability): { name: string; value: string }[] {
  return [
    { name: 'min.insync.replicas', value: String(d.minInsyncReplicas) },
    { name: 'max.message.bytes', value: String(d.maxMessageBytes) },
  ];
}

/** What the cluster reports about a topic that already exists. */
export interface TopicState {
  topic: string;
  /** The smallest replica count over its partitions. */
  replicationFactor: number;
  /** Effective values (topic override or broker default); undefined when the broker did not say. */
  minInsyncReplicas?: number;
  maxMessageBytes?: number;
}

/** One way an existing topic is less durable (or smaller) than configured, with how to fix it. */
export interface DurabilityShortfall {
  topic: string;
  setting: 'replication.factor' | 'min.insync.replicas' | 'max.message.bytes';
  have: number | undefined;
  want: number;
  /** Why it matters and what the operator runs to fix it: chainsight never changes an existing topic's settings. */
  consequence: string;
}

/**
 * Compares an existing topic with the configured durability. More than asked
 * is fine; less is reported, never silently accepted and never changed
 * behind the operator's back (re-replicating a topic moves data between
 * brokers and is theirs to schedule).
 */
export function durabilityShortfalls(want: TopicDurability, have: TopicState): DurabilityShortfall[] {
  const out: DurabilityShortfall[] = [];
  const t = have.topic;
  if (have.replicationFactor < want.replicationFactor) {
    out.push({
      topic: t, setting: 'replication.factor', have: have.replicationFactor, want: want.replicationFactor,
      consequence: `losing ${have.replicationFactor} broker(s) loses records of ${t}; raise it with kafka-reassign-partitions.sh`,
    });
  }
  if (have.minInsyncReplicas === undefined || have.minInsyncReplicas < want.minInsyncReplicas) {
    out.push({
      topic: t, setting: 'min.insync.replicas', have: have.minInsyncReplicas, want: want.minInsyncReplicas,
      consequence: `an acknowledged record of ${t} may be on fewer brokers than configured; set it with kafka-configs.sh --alter --entity-type topics --entity-name ${t} --add-config min.insync.replicas=${want.minInsyncReplicas}`,
    });
  }
  if (have.maxMessageBytes === undefined || have.maxMessageBytes < want.maxMessageBytes) {
    out.push({
      topic: t, setting: 'max.message.bytes', have: have.maxMessageBytes, want: want.maxMessageBytes,
      consequence: `records above ${have.maxMessageBytes ?? 'the broker default'} bytes are refused as MESSAGE_TOO_LARGE and dropped by the producer; set it with kafka-configs.sh --alter --entity-type topics --entity-name ${t} --add-config max.message.bytes=${want.maxMessageBytes}`,
    });
  }
  return out;
}

/** Refuses, before asking the cluster to, a replication factor it cannot place. */
export function checkPlaceable(want: TopicDurability, brokerCount: number, topics: readonly string[]): void {
  if (topics.length > 0 && want.replicationFactor > brokerCount) {
    throw new DurabilityConfigError(
      `cannot create ${topics.join(', ')} with replication factor ${want.replicationFactor}: the cluster has ${brokerCount} broker(s)` +
        ' (set CHAINSIGHT_KAFKA_REPLICATION_FACTOR to at most the broker count)',
    );
  }
}
