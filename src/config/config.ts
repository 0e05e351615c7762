import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import type { StoreConfig } from '../store/client.js';
import { assertIdentifier } from '../store/client.js';
import { resolveIngestLimits, type IngestLimits } from '../ingest/limits.js';
import { DEFAULT_MAX_INFLIGHT_BYTES } from '../ingest/admission.js';
import { resolveTopicDurability, type TopicDurability } from '../ingest/kafka-durability.js';
import { defaultPolicy, policyFromJson, type VerifyPolicy } from '../verify/index.js';
import { readTrustSources, type RemoteSource } from '../verify/trust-remote-sources.js';
import { ConfigError, EnvReader } from './env.js';
import { readApiAccess, type ApiAccessConfig } from './api-access.js';
import { DEFAULT_MAX_SPAN_AGE_SEC } from '../verify/received-time.js';
import { OPEN_EMITTER_POLICY, parseEmitterAuthPolicy, type EmitterAuthPolicy } from '../verify/emitter-auth.js';
import { DetectionConfigError, loadDetectionConfig, type DetectionConfig } from '../detect/config.js';
import { readAlertDeliveryEnv, type AlertDeliveryEnv } from '../alert/delivery/config.js';

export { ConfigError } from './env.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Everything a chainsight process needs to know, resolved once at start. */
export interface ChainsightConfig {
  dataDir: string;
  store: StoreConfig;
  /** Directory of `<trust-domain>.jwks.json` bundles. */
  trustDir: string;
  /** Trust domains fetched over HTTPS, from `file` (`<trustDir>/sources.json` unless CHAINSIGHT_TRUST_SOURCES names one). */
  trustSources: { file: string; sources: RemoteSource[] };
  policy: VerifyPolicy;
  /** The policy engine's rules (YAML, schemas/policy.md); undefined: no policy stage. */
  rulesFile: string | undefined;
  /** Which engine judges the rules: the built-in one, or an OPA server given the same policy as data. */
  policyEngine: { kind: 'builtin' } | { kind: 'opa'; url: string; cacheTtlMs: number };
  limits: IngestLimits;
  /** Oldest a span's start may be before it was received, in seconds (CHAINSIGHT_MAX_SPAN_AGE_SEC). */
  maxSpanAgeSec: number;
  /** How often each processor polls the revocations table, in ms (CHAINSIGHT_REVOCATION_POLL_MS). */
  revocationPollMs: number;
  /** Receiver admission: in-flight budget (accounted bytes), wait for room, optional soft RSS limit (0: off). */
  admission: { maxInflightBytes: number; maxWaitMs: number; memoryLimitBytes: number };
  /**
   * The OTLP receiver: HTTPS with client certificates requested when `tls` is
   * set; `audiences` a JWT-SVID bearer token must name one of.
   */
  otlp: { host: string; port: number; tls?: { certFile: string; keyFile: string }; audiences: string[] };
  /** Per trust domain, what the request carrying a span must prove (CHAINSIGHT_EMITTER_AUTH). */
  emitterAuth: EmitterAuthPolicy;
  api: { host: string; port: number };
  /** Analyst API authentication (OIDC bearer JWTs) and cursor signing. */
  apiAccess: ApiAccessConfig;
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
  logLevel: LogLevel;
  /** Detection and alerting (CHAINSIGHT_DETECTION: a YAML file, `off`, or unset for the defaults); absent: the defaults. */
  detection?: DetectionConfig;
  /** Alert delivery's secrets and CA files (from the environment) and whether this process dispatches (CHAINSIGHT_ALERT_DISPATCH). */
  alertDelivery?: AlertDeliveryEnv;
  /** `CHAINSIGHT_*` variables nobody reads (likely typos), for a warning at start. */
  unknownVariables: string[];
}

export interface ConfigFlags {
  data?: string;
  trustDir?: string;
  policy?: string;
  rules?: string;
  host?: string;
  otlpPort?: number;
  apiPort?: number;
}

/** Defaults a command may change (the demo is quieter than a server). */
export interface ConfigDefaults {
  logLevel?: LogLevel;
}

/**
 * Variables read elsewhere than a chainsight process (scripts, the test and
 * bench harnesses): known, so they are not reported as typos.
 */
const READ_ELSEWHERE = ['CHAINSIGHT_CACHE', 'CHAINSIGHT_API_URL', 'CHAINSIGHT_API_TOKEN'];

/**
 * Every environment variable chainsight reads is read here, validated, and
 * reported all at once: flags win over environment variables, which win over
 * defaults. Throws a ConfigError listing every problem.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, flags: ConfigFlags = {}, defaults: ConfigDefaults = {}): ChainsightConfig {
  const e = new EnvReader(env);
  for (const name of READ_ELSEWHERE) e.string(name);
  const dataDir = resolve(flags.data ?? e.string('CHAINSIGHT_DATA_DIR') ?? './data');
  const policyFile = flags.policy ?? e.string('CHAINSIGHT_POLICY');
  const host = flags.host ?? e.string('CHAINSIGHT_HOST') ?? '127.0.0.1';
  const store = readStore(e, resolve(dataDir, 'clickhouse'));
  const maxBodyBytes = e.int('CHAINSIGHT_MAX_BODY_BYTES', 0, 1);
  const trustDir = resolve(flags.trustDir ?? e.string('CHAINSIGHT_TRUST_DIR') ?? resolve(dataDir, 'trust'));
  const sourcesFile = e.string('CHAINSIGHT_TRUST_SOURCES');
  const maxSpansPerRequest = e.int('CHAINSIGHT_MAX_SPANS_PER_REQUEST', 0, 1);
  const config: ChainsightConfig = {
    dataDir,
    store,
    trustDir,
    trustSources: readSources(e, sourcesFile === undefined ? resolve(trustDir, 'sources.json') : resolve(sourcesFile), sourcesFile !== undefined),
    policy: policyFile === undefined ? defaultPolicy() : readPolicy(e, policyFile),
    rulesFile: optionalPath(flags.rules ?? e.string('CHAINSIGHT_POLICY_RULES')),
    policyEngine: readPolicyEngine(e),
    limits: resolveIngestLimits({
      maxBodyBytes: maxBodyBytes || undefined,
      maxSpansPerRequest: maxSpansPerRequest || undefined,
    }),
    maxSpanAgeSec: e.int('CHAINSIGHT_MAX_SPAN_AGE_SEC', DEFAULT_MAX_SPAN_AGE_SEC, 60, 366 * 86_400),
    revocationPollMs: e.int('CHAINSIGHT_REVOCATION_POLL_MS', 1000, 50, 60_000),
    admission: {
      maxInflightBytes: e.int('CHAINSIGHT_MAX_INFLIGHT_BYTES', DEFAULT_MAX_INFLIGHT_BYTES, 1),
      maxWaitMs: e.int('CHAINSIGHT_ADMISSION_WAIT_MS', 1000, 0, 60_000),
      memoryLimitBytes: e.int('CHAINSIGHT_MEMORY_LIMIT_BYTES', 0),
    },
    otlp: { host, port: flags.otlpPort ?? e.port('CHAINSIGHT_OTLP_PORT', 4318), ...readOtlpTls(e), audiences: readAudiences(e) },
    emitterAuth: readEmitterAuth(e),
    api: { host, port: flags.apiPort ?? e.port('CHAINSIGHT_API_PORT', 8480) },
    apiAccess: readApiAccess(e),
    batch: {
      maxRows: e.int('CHAINSIGHT_BATCH_ROWS', 10_000, 1),
      maxDelayMs: e.int('CHAINSIGHT_BATCH_DELAY_MS', 0, 0, 60_000),
    },
    kafka: {
      brokers: e.hostPorts('KAFKA_BROKERS'),
      topic: e.string('CHAINSIGHT_KAFKA_TOPIC') ?? 'otlp_spans',
      dlqTopic: e.string('CHAINSIGHT_KAFKA_DLQ_TOPIC') ?? 'otlp_spans.dlq',
      groupId: e.string('CHAINSIGHT_KAFKA_GROUP') ?? 'chainsight-processor',
      partitions: e.int('CHAINSIGHT_KAFKA_PARTITIONS', 8, 1, 10_000),
      // kafkajs's production defaults; the broker refuses sessions under group.min.session.timeout.ms (6 s by default).
      sessionTimeoutMs: e.int('CHAINSIGHT_KAFKA_SESSION_TIMEOUT_MS', 30_000, 1_000),
      heartbeatIntervalMs: e.int('CHAINSIGHT_KAFKA_HEARTBEAT_MS', 3_000, 100),
      durability: readDurability(e),
    },
    logLevel: e.oneOf('CHAINSIGHT_LOG_LEVEL', LOG_LEVELS, defaults.logLevel ?? 'info'),
    detection: readDetection(e),
    unknownVariables: [],
  };
  config.alertDelivery = readAlertDeliveryEnv(e, config.detection?.enabled ? config.detection.sections.delivery : undefined);
  if (config.policyEngine.kind === 'opa' && config.rulesFile === undefined) {
    e.problems.push('CHAINSIGHT_POLICY_ENGINE=opa needs a rules file (--rules or CHAINSIGHT_POLICY_RULES): it is what chainsight loads into OPA');
  }
  if (config.kafka.heartbeatIntervalMs >= config.kafka.sessionTimeoutMs) {
    e.problems.push('CHAINSIGHT_KAFKA_HEARTBEAT_MS must be shorter than CHAINSIGHT_KAFKA_SESSION_TIMEOUT_MS');
  }
  e.assertValid();
  config.unknownVariables = e.unknownChainsightVariables();
  return config;
}

/** CHAINSIGHT_OTLP_TLS_CERT and _KEY (PEM files), both or neither; read at start, so a missing file is a config problem. */
function readOtlpTls(e: EnvReader): { tls?: { certFile: string; keyFile: string } } {
  const cert = e.string('CHAINSIGHT_OTLP_TLS_CERT');
  const key = e.string('CHAINSIGHT_OTLP_TLS_KEY');
  if (cert === undefined && key === undefined) return {};
  if (cert === undefined || key === undefined) {
    e.problems.push('CHAINSIGHT_OTLP_TLS_CERT and CHAINSIGHT_OTLP_TLS_KEY go together: set both (HTTPS with client certificates) or neither');
    return {};
  }
  for (const [name, file] of [['CHAINSIGHT_OTLP_TLS_CERT', cert], ['CHAINSIGHT_OTLP_TLS_KEY', key]] as const) {
    try {
      readFileSync(file);
    } catch (err) {
      e.problems.push(`${name}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  return { tls: { certFile: resolve(cert), keyFile: resolve(key) } };
}

/** CHAINSIGHT_OTLP_AUDIENCE: comma-separated audiences a JWT-SVID may name (default chainsight). */
function readAudiences(e: EnvReader): string[] {
  const list = (e.string('CHAINSIGHT_OTLP_AUDIENCE') ?? 'chainsight').split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) e.problems.push('CHAINSIGHT_OTLP_AUDIENCE must name at least one audience');
  return list;
}

/** CHAINSIGHT_EMITTER_AUTH, e.g. `default=none,acme.example=mtls`. */
function readEmitterAuth(e: EnvReader): EmitterAuthPolicy {
  const raw = e.string('CHAINSIGHT_EMITTER_AUTH');
  if (raw === undefined) return OPEN_EMITTER_POLICY;
  try {
    return parseEmitterAuthPolicy(raw);
  } catch (err) {
    e.problems.push(`CHAINSIGHT_EMITTER_AUTH: ${(err as Error).message}`);
    return OPEN_EMITTER_POLICY;
  }
}

/** CHAINSIGHT_POLICY_ENGINE, with CHAINSIGHT_OPA_URL and CHAINSIGHT_OPA_CACHE_TTL_MS for OPA. */
function readPolicyEngine(e: EnvReader): ChainsightConfig['policyEngine'] {
  const kind = e.oneOf('CHAINSIGHT_POLICY_ENGINE', ['builtin', 'opa'] as const, 'builtin');
  const url = e.url('CHAINSIGHT_OPA_URL');
  // Minutes, not hours (the seed); 0 turns the cache off.
  const cacheTtlMs = e.int('CHAINSIGHT_OPA_CACHE_TTL_MS', 60_000, 0, 3_600_000);
  if (kind === 'builtin') return { kind };
  if (url === undefined) {
    e.problems.push('CHAINSIGHT_POLICY_ENGINE=opa needs CHAINSIGHT_OPA_URL (e.g. http://127.0.0.1:8181)');
    return { kind: 'builtin' };
  }
  return { kind, url, cacheTtlMs };
}

/** CHAINSIGHT_DETECTION: its file's problems join the others. */
function readDetection(e: EnvReader): DetectionConfig | undefined {
  try {
    return loadDetectionConfig(e.string('CHAINSIGHT_DETECTION'));
  } catch (err) {
    if (!(err instanceof DetectionConfigError)) throw err;
    for (const p of err.problems) e.problems.push(`CHAINSIGHT_DETECTION: ${p}`);
    return undefined;
  }
}

/** Topic settings `consume` creates topics with; the pure rules live beside the Kafka admin code. */
function readDurability(e: EnvReader): TopicDurability {
  const replicationFactor = e.int('CHAINSIGHT_KAFKA_REPLICATION_FACTOR', 0, 1, 32_767);
  const minInsyncReplicas = e.int('CHAINSIGHT_KAFKA_MIN_INSYNC_REPLICAS', 0, 1, 32_767);
  const maxMessageBytes = e.int('CHAINSIGHT_KAFKA_MAX_MESSAGE_BYTES', 0, 1);
  try {
    return resolveTopicDurability({
      ...(replicationFactor ? { replicationFactor } : {}),
      ...(minInsyncReplicas ? { minInsyncReplicas } : {}),
      ...(maxMessageBytes ? { maxMessageBytes } : {}),
    });
  } catch (err) {
    e.problems.push(`CHAINSIGHT_KAFKA_*: ${(err as Error).message}`);
    return resolveTopicDurability();
  }
}

function optionalPath(p: string | undefined): string | undefined {
  return p === undefined ? undefined : resolve(p);
}

/** The trust sources file (see trust-remote-sources.ts); its problems join the others. */
function readSources(e: EnvReader, file: string, explicit: boolean): ChainsightConfig['trustSources'] {
  try {
    return { file, sources: readTrustSources(file, explicit) };
  } catch (err) {
    e.problems.push(`CHAINSIGHT_TRUST_SOURCES: ${(err as Error).message}`);
    return { file, sources: [] };
  }
}

/** CLICKHOUSE_URL selects a server, otherwise chdb in dataDir. */
function readStore(e: EnvReader, dataDir: string): StoreConfig {
  const rawDb = e.string('CHAINSIGHT_DATABASE') ?? 'chainsight';
  let database = 'chainsight';
  try {
    database = assertIdentifier(rawDb);
  } catch (err) {
    e.problems.push(`CHAINSIGHT_DATABASE: ${(err as Error).message}`);
  }
  const url = e.url('CLICKHOUSE_URL');
  const layout = e.oneOf('CHAINSIGHT_CLICKHOUSE_LAYOUT', ['single', 'replicated'] as const, 'single');
  const username = e.string('CLICKHOUSE_USER');
  const password = e.string('CLICKHOUSE_PASSWORD');
  if (url === undefined) {
    if (layout !== 'single') e.problems.push('CHAINSIGHT_CLICKHOUSE_LAYOUT=replicated needs CLICKHOUSE_URL (the embedded store is one node)');
    return { database, target: { kind: 'embedded', dataDir } };
  }
  return {
    database,
    layout,
    target: { kind: 'server', url, ...(username !== undefined ? { username } : {}), ...(password !== undefined ? { password } : {}) },
  };
}

/** CHAINSIGHT_POLICY (or --policy) is a path to a policy file; problems name the file. */
function readPolicy(e: EnvReader, file: string): VerifyPolicy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    e.problems.push(`policy file ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    return defaultPolicy();
  }
  try {
    return policyFromJson(JSON.parse(text));
  } catch (err) {
    e.problems.push(`policy file ${file}: ${(err as Error).message}`);
    return defaultPolicy();
  }
}

/** Base URL of a running chainsight's query API, for client commands (`tree`). */
export function apiBaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  const e = new EnvReader(env);
  const url = e.url('CHAINSIGHT_API_URL') ?? 'http://127.0.0.1:8480';
  e.assertValid();
  return url;
}

/** Bearer token client commands (`tree`) send to an API that requires one. */
export function apiToken(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return new EnvReader(env).string('CHAINSIGHT_API_TOKEN');
}

/** Database name for commands that only print DDL. */
export function databaseName(env: NodeJS.ProcessEnv = process.env): string {
  const e = new EnvReader(env);
  const name = e.string('CHAINSIGHT_DATABASE') ?? 'chainsight';
  try {
    return assertIdentifier(name);
  } catch (err) {
    throw new ConfigError([`CHAINSIGHT_DATABASE: ${(err as Error).message}`]);
  }
}
