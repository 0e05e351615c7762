/**
 * The `delivery` section of the detection config: where alert notifications
 * go and how hard to try. Secrets are named here and read from the
 * environment (resolveDeliverySecrets), never written in the file.
 */
import { readFileSync } from 'node:fs';
import type { EnvReader } from '../../config/env.js';
import type { BackoffPolicy } from '../../ingest/kafka-backoff.js';
import { SectionReader } from './config-fields.js';

export interface WebhookDestinationConfig {
  type: 'webhook';
  name: string;
  url: URL;
  /** Environment variable holding the HMAC secret. */
  secretEnv: string;
  /** PEM file of the CA(s) that sign the receiver's certificate (https); the system roots otherwise. */
  caFile?: string;
  timeoutMs: number;
  /** The Alertmanager payload's `receiver`. */
  receiver: string;
}

export interface OcsfDestinationConfig {
  type: 'ocsf';
  name: string;
  /** JSON lines appended to a file… */
  file?: string;
  /** …or POSTed (one finding per request, signed like the webhook when secretEnv is set). */
  url?: URL;
  secretEnv?: string;
  caFile?: string;
  timeoutMs: number;
}

export interface KafkaDestinationConfig {
  type: 'kafka';
  name: string;
  brokers: string[];
  topic: string;
  /** What a record's value holds. */
  format: 'ocsf' | 'alertmanager';
  timeoutMs: number;
}

export type DestinationConfig = WebhookDestinationConfig | OcsfDestinationConfig | KafkaDestinationConfig;

export interface DeliveryConfig {
  destinations: DestinationConfig[];
  /** How often the dispatcher looks for undelivered notifications. */
  pollIntervalMs: number;
  /** Notifications read per destination and pass. */
  batchSize: number;
  /** Backoff while a destination fails. */
  retry: BackoffPolicy;
  /** A notification still undelivered this long after it entered the outbox is abandoned (recorded, logged). */
  giveUpAfterMs: number;
  /** Base URL of this chainsight's API, for links in notifications (`generatorURL`, `externalURL`). */
  externalUrl: string;
  /** The product name in OCSF metadata. */
  productName: string;
}

export const DEFAULT_DELIVERY: DeliveryConfig = {
  destinations: [],
  pollIntervalMs: 500,
  batchSize: 100,
  retry: { initialMs: 1_000, maxMs: 60_000 },
  giveUpAfterMs: 24 * 3_600_000,
  externalUrl: 'http://localhost:8080',
  productName: 'chainsight',
};

const NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const ENV_NAME = /^CHAINSIGHT_[A-Z0-9_]+$/;
const DEFAULT_SECRET_ENV = 'CHAINSIGHT_WEBHOOK_SECRET';

function secretEnvOf(r: SectionReader, fallback: string | undefined): string | undefined {
  if (!r.has('secret_env')) return fallback;
  const v = r.string('secret_env', '');
  if (!ENV_NAME.test(v)) {
    r.problems.push(`${r.at}/secret_env: must name a CHAINSIGHT_* environment variable`);
    return fallback;
  }
  return v;
}

function caFileOf(r: SectionReader, url: URL | undefined): string | undefined {
  if (!r.has('ca_file')) return undefined;
  const f = r.string('ca_file', '');
  if (url !== undefined && url.protocol !== 'https:') r.problems.push(`${r.at}/ca_file: is set but the url is not https`);
  return f === '' ? undefined : f;
}

function destination(raw: unknown, at: string, problems: string[], names: Set<string>): DestinationConfig | undefined {
  const r = SectionReader.of(raw, at, problems);
  const type = r.oneOf('type', ['webhook', 'ocsf', 'kafka'] as const, 'webhook');
  const name = r.string('name', type);
  if (!NAME.test(name)) problems.push(`${at}/name: must be lower-case letters, digits, '_', '.', '-' (at most 64)`);
  else if (name === 'response') problems.push(`${at}/name: "response" is reserved for the automated response`);
  else if (names.has(name)) problems.push(`${at}/name: "${name}" is used twice`);
  names.add(name);
  const timeoutMs = r.int('timeout_ms', 10_000, 100, 120_000);
  switch (type) {
    case 'webhook': {
      r.only(['type', 'name', 'url', 'secret_env', 'ca_file', 'timeout_ms', 'receiver']);
      const url = r.url('url');
      if (url === undefined && !r.has('url')) problems.push(`${at}/url: is required for a webhook`);
      const secretEnv = secretEnvOf(r, DEFAULT_SECRET_ENV)!;
      const caFile = caFileOf(r, url);
      if (url === undefined) return undefined;
      return { type, name, url, secretEnv, timeoutMs, receiver: r.string('receiver', 'chainsight'), ...(caFile ? { caFile } : {}) };
    }
    case 'ocsf': {
      r.only(['type', 'name', 'file', 'url', 'secret_env', 'ca_file', 'timeout_ms']);
      const file = r.has('file') ? r.string('file', '') : undefined;
      const url = r.url('url');
      if (r.has('file') === r.has('url')) problems.push(`${at}: needs exactly one of file and url`);
      const secretEnv = secretEnvOf(r, undefined);
      const caFile = caFileOf(r, url);
      return { type, name, timeoutMs, ...(file ? { file } : {}), ...(url ? { url } : {}), ...(secretEnv ? { secretEnv } : {}), ...(caFile ? { caFile } : {}) };
    }
    case 'kafka': {
      r.only(['type', 'name', 'brokers', 'topic', 'format', 'timeout_ms']);
      const brokers = r.strings('brokers');
      if (brokers.length === 0) problems.push(`${at}/brokers: must list at least one host:port`);
      for (const b of brokers) if (!/^[^\s:]+:\d{1,5}$/.test(b) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(b)) problems.push(`${at}/brokers: ${JSON.stringify(b)} is not host:port`);
      const topic = r.string('topic', 'chainsight.alerts');
      if (!/^[a-zA-Z0-9._-]{1,249}$/.test(topic)) problems.push(`${at}/topic: is not a valid Kafka topic name`);
      return { type, name, brokers, topic, format: r.oneOf('format', ['ocsf', 'alertmanager'] as const, 'ocsf'), timeoutMs };
    }
  }
}

export function parseDeliveryConfig(raw: unknown, at: string, problems: string[]): DeliveryConfig {
  const r = SectionReader.of(raw, at, problems);
  r.only(['destinations', 'poll_interval_ms', 'batch_size', 'retry', 'give_up_after_ms', 'external_url', 'product_name']);
  const d = DEFAULT_DELIVERY;
  const list = r.raw('destinations');
  const names = new Set<string>();
  const destinations: DestinationConfig[] = [];
  if (list !== undefined && list !== null && !Array.isArray(list)) problems.push(`${at}/destinations: must be a list`);
  else for (const [i, item] of (list ?? []).entries()) {
    const dest = destination(item, `${at}/destinations/${i}`, problems, names);
    if (dest) destinations.push(dest);
  }
  const retry = SectionReader.of(r.raw('retry'), `${at}/retry`, problems);
  retry.only(['initial_ms', 'max_ms']);
  const initialMs = retry.int('initial_ms', d.retry.initialMs, 10, 3_600_000);
  const maxMs = retry.int('max_ms', d.retry.maxMs, 10, 86_400_000);
  if (maxMs < initialMs) problems.push(`${at}/retry/max_ms: must be at least initial_ms`);
  const external = r.url('external_url');
  return {
    destinations,
    pollIntervalMs: r.int('poll_interval_ms', d.pollIntervalMs, 10, 3_600_000),
    batchSize: r.int('batch_size', d.batchSize, 1, 10_000),
    retry: { initialMs, maxMs },
    giveUpAfterMs: r.int('give_up_after_ms', d.giveUpAfterMs, 1_000, 30 * 86_400_000),
    externalUrl: external ? external.href.replace(/\/$/, '') : d.externalUrl,
    productName: r.string('product_name', d.productName),
  };
}

/** Secrets and CA certificates a configured destination needs, read once at start. */
export interface DeliverySecrets {
  /** HMAC secret by destination name. */
  secrets: Map<string, Buffer>;
  /** CA PEM by destination name. */
  cas: Map<string, Buffer>;
}

/**
 * Reads every destination's secret from the environment and its CA file.
 * A webhook without a secret is a problem (fail closed: receivers must be
 * able to check who sent a notification); a secret shorter than 32 bytes too.
 */
export function resolveDeliverySecrets(config: DeliveryConfig, env: EnvReader, readFile: (path: string) => Buffer = readFileSync): DeliverySecrets {
  const secrets = new Map<string, Buffer>();
  const cas = new Map<string, Buffer>();
  for (const d of config.destinations) {
    if (d.type === 'kafka') continue;
    if (d.secretEnv !== undefined) {
      const s = env.string(d.secretEnv);
      if (s === undefined) env.problems.push(`${d.secretEnv} must be set: destination "${d.name}" signs what it sends with it`);
      else if (Buffer.byteLength(s) < 32) env.problems.push(`${d.secretEnv} must be at least 32 bytes long`);
      else secrets.set(d.name, Buffer.from(s, 'utf8'));
    }
    if (d.caFile !== undefined) {
      try {
        cas.set(d.name, readFile(d.caFile));
      } catch (err) {
        env.problems.push(`destination "${d.name}": cannot read ca_file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
    }
  }
  return { secrets, cas };
}

/**
 * Whether this process dispatches the outbox (CHAINSIGHT_ALERT_DISPATCH,
 * on by default: the embedded deployment is one process). In a consumer
 * group of N processors, exactly one runs with it on.
 */
export function readDispatchRole(env: EnvReader): boolean {
  return env.oneOf('CHAINSIGHT_ALERT_DISPATCH', ['on', 'off'] as const, 'on') === 'on';
}

/** What alert delivery reads from the environment: destination secrets and CA files, and the dispatch role. */
export interface AlertDeliveryEnv {
  secrets: DeliverySecrets;
  dispatch: boolean;
}

/** Reads it for the delivery section in force (undefined: detection is off, nothing is delivered, nothing is required). */
export function readAlertDeliveryEnv(env: EnvReader, delivery: DeliveryConfig | undefined): AlertDeliveryEnv {
  const dispatch = readDispatchRole(env);
  if (delivery === undefined || !dispatch) {
    // A process that does not dispatch needs no secret; one set anyway is not a typo.
    for (const d of delivery?.destinations ?? []) if (d.type !== 'kafka' && d.secretEnv !== undefined) env.string(d.secretEnv);
    return { secrets: { secrets: new Map(), cas: new Map() }, dispatch };
  }
  return { secrets: resolveDeliverySecrets(delivery, env), dispatch };
}
