import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { storeConfigFromEnv, type StoreConfig } from '../store/client.js';
import { resolveIngestLimits, type IngestLimits } from '../ingest/limits.js';
import { resolveTopicDurability, type TopicDurability } from '../ingest/kafka-durability.js';
import { defaultPolicy, policyFromJson, type VerifyPolicy } from '../verify/index.js';

/** Everything a chainsight process needs to know, resolved once at start. */
export interface ChainsightConfig {
  dataDir: string;
  store: StoreConfig;
  /** Directory of `<trust-domain>.jwks.json` bundles. */
  trustDir: string;
  policy: VerifyPolicy;
  limits: IngestLimits;
  otlp: { host: string; port: number };
  api: { host: string; port: number };
  batch: { maxRows: number; maxDelayMs: number };
  kafka: {
    brokers: string[];
    topic: string;
    dlqTopic: string;
    groupId: string;
    partitions: number;
    /** Group session timeout and heartbeat interval: how fast the group notices a dead member. */
    sessionTimeoutMs: number;
    heartbeatIntervalMs: number;
    /** Replication factor, min.insync.replicas and max.message.bytes of the topics `consume` creates. */
    durability: TopicDurability;
  };
  logLevel: string;
}

export interface ConfigFlags {
  data?: string;
  trustDir?: string;
  policy?: string;
  host?: string;
  otlpPort?: number;
  apiPort?: number;
}

function intEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}

/** Flags win over environment variables, which win over defaults. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, flags: ConfigFlags = {}): ChainsightConfig {
  const dataDir = resolve(flags.data ?? env.CHAINSIGHT_DATA_DIR ?? './data');
  const policyFile = flags.policy ?? env.CHAINSIGHT_POLICY;
  const policy = policyFile ? policyFromJson(JSON.parse(readFileSync(policyFile, 'utf8'))) : defaultPolicy();
  const host = flags.host ?? env.CHAINSIGHT_HOST ?? '127.0.0.1';
  return {
    dataDir,
    store: storeConfigFromEnv(env, resolve(dataDir, 'clickhouse')),
    trustDir: resolve(flags.trustDir ?? env.CHAINSIGHT_TRUST_DIR ?? resolve(dataDir, 'trust')),
    policy,
    limits: resolveIngestLimits({
      maxBodyBytes: env.CHAINSIGHT_MAX_BODY_BYTES ? intEnv(env, 'CHAINSIGHT_MAX_BODY_BYTES', 0) : undefined,
      maxSpansPerRequest: env.CHAINSIGHT_MAX_SPANS_PER_REQUEST ? intEnv(env, 'CHAINSIGHT_MAX_SPANS_PER_REQUEST', 0) : undefined,
    }),
    otlp: { host, port: flags.otlpPort ?? intEnv(env, 'CHAINSIGHT_OTLP_PORT', 4318) },
    api: { host, port: flags.apiPort ?? intEnv(env, 'CHAINSIGHT_API_PORT', 8480) },
    batch: { maxRows: intEnv(env, 'CHAINSIGHT_BATCH_ROWS', 10_000), maxDelayMs: intEnv(env, 'CHAINSIGHT_BATCH_DELAY_MS', 0) },
    kafka: {
      brokers: (env.KAFKA_BROKERS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
      topic: env.CHAINSIGHT_KAFKA_TOPIC ?? 'otlp_spans',
      dlqTopic: env.CHAINSIGHT_KAFKA_DLQ_TOPIC ?? 'otlp_spans.dlq',
      groupId: env.CHAINSIGHT_KAFKA_GROUP ?? 'chainsight-processor',
      partitions: intEnv(env, 'CHAINSIGHT_KAFKA_PARTITIONS', 8),
      // kafkajs's production defaults; the broker refuses sessions under group.min.session.timeout.ms (6 s by default).
      sessionTimeoutMs: intEnv(env, 'CHAINSIGHT_KAFKA_SESSION_TIMEOUT_MS', 30_000),
      heartbeatIntervalMs: intEnv(env, 'CHAINSIGHT_KAFKA_HEARTBEAT_MS', 3_000),
      durability: resolveTopicDurability({
        replicationFactor: env.CHAINSIGHT_KAFKA_REPLICATION_FACTOR ? intEnv(env, 'CHAINSIGHT_KAFKA_REPLICATION_FACTOR', 1) : undefined,
        minInsyncReplicas: env.CHAINSIGHT_KAFKA_MIN_INSYNC_REPLICAS ? intEnv(env, 'CHAINSIGHT_KAFKA_MIN_INSYNC_REPLICAS', 1) : undefined,
        maxMessageBytes: env.CHAINSIGHT_KAFKA_MAX_MESSAGE_BYTES ? intEnv(env, 'CHAINSIGHT_KAFKA_MAX_MESSAGE_BYTES', 0) : undefined,
      }),
    },
    logLevel: env.CHAINSIGHT_LOG_LEVEL ?? 'info',
  };
}
