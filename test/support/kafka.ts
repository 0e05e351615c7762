import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Kafka, logLevel, Partitioners, type IHeaders, type KafkaMessage } from 'kafkajs';
import type { AgentSpan } from '../../src/model/span.js';
import type { IngestResult, SpanSink } from '../../src/pipeline/types.js';
import type { SpanDecoder } from '../../src/ingest/kafka-message.js';
import { DEFAULT_INGEST_LIMITS } from '../../src/ingest/limits.js';
import { decodeOtlp } from '../../src/ingest/otlp/index.js';
import { ExportTraceServiceRequest } from '../../src/ingest/otlp/schema.js';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../../scripts/kafka.sh', import.meta.url));

let brokers: Promise<string[] | string> | undefined;
let startedHere = false;

/**
 * Broker addresses for integration tests: KAFKA_BROKERS when set, else a local
 * broker started with scripts/kafka.sh (once per test process). Resolves to a
 * string saying why not when Java is missing, for `t.skip(reason)`.
 */
export function kafkaBrokers(): Promise<string[] | string> {
  brokers ??= (async () => {
    const fromEnv = process.env.KAFKA_BROKERS?.trim();
    if (fromEnv) return fromEnv.split(',').map((b) => b.trim()).filter(Boolean);
    if (spawnSync('java', ['-version']).error) {
      return 'java not found: the local Kafka broker needs Java 17+ (or set KAFKA_BROKERS)';
    }
    const alreadyRunning = spawnSync(script, ['status']).status === 0;
    const { stdout } = await run(script, ['start'], { timeout: 300_000 });
    startedHere = !alreadyRunning;
    const line = stdout.split('\n').find((l) => l.startsWith('KAFKA_BROKERS='));
    if (!line) throw new Error(`scripts/kafka.sh start printed no KAFKA_BROKERS line:\n${stdout}`);
    return line.slice('KAFKA_BROKERS='.length).split(',');
  })();
  return brokers;
}

/** Stops the broker if this process started it (set KAFKA_KEEP=1 to leave it up for the next run). */
export async function releaseKafka(): Promise<void> {
  if (!startedHere || process.env.KAFKA_KEEP === '1') return;
  startedHere = false;
  brokers = undefined;
  await run(script, ['stop'], { timeout: 60_000 });
}

/** A Kafka cluster of the test's own, whose nodes it may stop and restart with their logs kept (an outage). */
export interface OwnKafka {
  brokers: string[];
  /** Controlled shutdown of every node; the topics and their records stay on disk. */
  stop(): Promise<void>;
  /** Starts every node again on the same ports and log dirs. */
  start(): Promise<void>;
  /** Stops node `n` (1-based) alone, keeping its log. */
  stopNode(n: number): Promise<void>;
  startNode(n: number): Promise<void>;
  /** Stops every node and deletes the log dirs. */
  remove(): Promise<void>;
  /** The brokers' own logs (server.log of every node), for what a client is not told. */
  serverLogs(): string;
}

/**
 * Starts `nodes` KRaft nodes with scripts/kafka.sh on free ports and fresh
 * log dirs, separate from the shared test broker so that stopping them harms
 * no other test. Resolves to a reason string when Java is missing.
 */
export async function startOwnKafka(nodes = 1): Promise<OwnKafka | string> {
  if (spawnSync('java', ['-version']).error) return 'java not found: the local Kafka broker needs Java 17+';
  // kafka.sh gives node N ports KAFKA_PORT + 2(N-1) and the one after: a free run of 2 x nodes, taken
  // below Linux's ephemeral range (32768+), where client sockets' own ports cannot land on it between
  // the check and the broker's bind. A start that still cannot bind is retried on another run.
  let port = 0;
  let dataDir = '';
  let env: NodeJS.ProcessEnv = {};
  const cmd = async (args: string[], extra: Record<string, string> = {}): Promise<void> => {
    await run(script, args, { env: { ...env, ...extra }, timeout: 300_000 });
  };
  for (let attempt = 1; ; attempt++) {
    port = portRunBelowEphemeral(2 * nodes);
    dataDir = mkdtempSync(join(tmpdir(), 'chainsight-own-kafka-'));
    env = { ...process.env, KAFKA_NODES: String(nodes), KAFKA_PORT: String(port), KAFKA_DATA: dataDir, KAFKA_KEEP_DATA: '1' };
    if (nodes > 1) env.KAFKA_HEAP ??= '-Xmx256m -Xms64m';
    try {
      await cmd(['start']);
      break;
    } catch (err) {
      await cmd(['stop']).catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
      if (attempt === 3) throw err;
    }
  }
  return {
    brokers: Array.from({ length: nodes }, (_, i) => `127.0.0.1:${port + 2 * i}`),
    stop: () => cmd(['stop']),
    start: () => cmd(['start']),
    stopNode: (n) => cmd(['stop-node', String(n)]),
    startNode: (n) => cmd(['start-node', String(n)]),
    remove: async () => {
      await cmd(['stop'], { KAFKA_KEEP_DATA: '0' });
      rmSync(dataDir, { recursive: true, force: true });
    },
    serverLogs: () =>
      Array.from({ length: nodes }, (_, i) => join(dataDir, nodes === 1 ? '' : `node-${i + 1}`, 'server.log'))
        .map((f) => (existsSync(f) ? readFileSync(f, 'utf8') : ''))
        .join('\n'),
  };
}

/** The first port of `count` consecutive free ones, from 20000–32000 (below the ephemeral range). */
function portRunBelowEphemeral(count: number): number {
  for (let i = 0; i < 200; i++) {
    const base = 20_000 + Math.floor(Math.random() * (12_000 - count));
    if (Array.from({ length: count }, (_, k) => base + k).every(portFree)) return base;
  }
  throw new Error(`no run of ${count} free ports found below the ephemeral range`);
}

function portFree(port: number): boolean {
  // bash's /dev/tcp connect fails when nothing listens.
  return spawnSync('bash', ['-c', `(exec 3<>/dev/tcp/127.0.0.1/${port}) 2>/dev/null`]).status !== 0;
}

let topicSeq = 0;
/** A topic name no other test (or earlier run against a kept broker) uses. */
export function uniqueTopic(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${++topicSeq}`;
}

export function testKafka(brokerList: string[]): Kafka {
  return new Kafka({ brokers: brokerList, clientId: 'chainsight-test', logLevel: logLevel.NOTHING });
}

/** Produces messages to explicit partitions and waits for the acks. */
export async function produce(
  brokerList: string[],
  topic: string,
  messages: { partition?: number; value: Buffer; headers?: IHeaders }[],
): Promise<void> {
  const producer = testKafka(brokerList).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

/** Reads `count` messages from the start of a topic with a throwaway group. */
export async function readTopic(brokerList: string[], topic: string, count: number, timeoutMs = 30_000): Promise<KafkaMessage[]> {
  const consumer = testKafka(brokerList).consumer({ groupId: uniqueTopic('reader') });
  const got: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${got.length}/${count} messages from ${topic}`)), timeoutMs);
      void consumer.run({
        eachMessage: async ({ message }) => {
          got.push(message);
          if (got.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return got;
}

/** Committed offsets of a group on a topic, by partition (-1 = none). */
export async function committedOffsets(brokerList: string[], groupId: string, topic: string): Promise<Map<number, number>> {
  const admin = testKafka(brokerList).admin();
  await admin.connect();
  try {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((entry?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

/** A logger that keeps what the source reports, for assertions and quiet test output. */
export function recordingLogger(): { lines: { level: string; msg: string; obj: object }[]; error: (o: object, m?: string) => void; warn: (o: object, m?: string) => void } {
  const lines: { level: string; msg: string; obj: object }[] = [];
  return {
    lines,
    error: (obj, msg = '') => lines.push({ level: 'error', msg, obj }),
    warn: (obj, msg = '') => lines.push({ level: 'warn', msg, obj }),
  };
}

/** Each partition's high watermark (offset of the next message to be written). */
export async function highWatermarks(brokerList: string[], topic: string): Promise<Map<number, number>> {
  const admin = testKafka(brokerList).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((p) => [p.partition, Number(p.high)]));
  } finally {
    await admin.disconnect();
  }
}

/** Polls `check` until it is true; throws with `what` after the deadline (a wait, not a timing assertion). */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A SpanSink that remembers every span it accepted; `failFirst` calls reject as if the store were down. */
export class RecordingSink implements SpanSink {
  readonly spans: AgentSpan[] = [];
  calls = 0;
  failures = 0;
  constructor(private failFirst = 0) {}

  /** From now on, reject every call (store down until recover()). */
  failForever(): void {
    this.failFirst = Number.POSITIVE_INFINITY;
  }

  /** The store is back: every later call succeeds. */
  recover(): void {
    this.failFirst = this.failures;
  }

  async ingest(spans: AgentSpan[]): Promise<IngestResult> {
    this.calls++;
    if (this.failures < this.failFirst) {
      this.failures++;
      throw new Error('store unavailable (test)');
    }
    this.spans.push(...spans);
    return { accepted: spans.length, rejected: 0, errors: [] };
  }

  spanIds(): Set<string> {
    return new Set(this.spans.map((s) => s.spanId));
  }
}

// --- OTLP JSON bodies ---------------------------------------------------------

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

/**
 * An OTLP/JSON ExportTraceServiceRequest with `spanCount` spans of one trace,
 * built by hand (resourceSpans -> scopeSpans -> spans). Span ids are
 * `${msgNo}` and the span index packed into 16 hex chars, so every span of a
 * test is distinct and traceable to its message.
 */
export function otlpJsonExport(msgNo: number, spanCount = 2, taskId = 'task-kafka'): { body: Buffer; spanIds: string[] } {
  const { request, spanIds } = exportRequest(msgNo, spanCount, taskId);
  return { body: Buffer.from(JSON.stringify(request)), spanIds };
}

/**
 * The same request in the protobuf encoding (what the Collector's kafka
 * exporter sends with otlp_proto): ids become bytes, times fixed64.
 */
export function otlpProtoExport(msgNo: number, spanCount = 2, taskId = 'task-kafka', padBytes = 0): { body: Buffer; spanIds: string[] } {
  const { request, spanIds } = exportRequest(msgNo, spanCount, taskId, padBytes);
  const bytes = (hexId: string): Buffer => Buffer.from(hexId, 'hex');
  for (const rs of request.resourceSpans) {
    for (const ss of rs.scopeSpans) {
      ss.spans = ss.spans.map((span) => ({
        ...span,
        traceId: bytes(span.traceId as string),
        spanId: bytes(span.spanId as string),
        parentSpanId: bytes(span.parentSpanId as string),
      }));
    }
  }
  const message = ExportTraceServiceRequest.fromObject(request);
  return { body: Buffer.from(ExportTraceServiceRequest.encode(message).finish()), spanIds };
}

/**
 * `padBytes` adds a random string attribute of that length to every span, to
 * make requests of a realistic (or a given) size that compression cannot shrink.
 */
function exportRequest(msgNo: number, spanCount: number, taskId: string, padBytes = 0) {
  const traceId = hex(0xc0de, 16) + hex(msgNo, 16);
  const startNs = BigInt(Date.UTC(2026, 2, 27, 14, 0, 0)) * 1_000_000n + BigInt(msgNo) * 1000n;
  const spanIds: string[] = [];
  const spans = Array.from({ length: spanCount }, (_, i) => {
    const spanId = hex(msgNo, 12) + hex(i + 1, 4);
    spanIds.push(spanId);
    return {
      traceId,
      spanId,
      parentSpanId: i === 0 ? '' : spanIds[0],
      name: `execute_tool step-${i}`,
      kind: 1,
      startTimeUnixNano: String(startNs + BigInt(i)),
      endTimeUnixNano: String(startNs + BigInt(i) + 5_000_000n),
      attributes: [
        { key: 'chainsight.task.id', value: { stringValue: taskId } },
        { key: 'gen_ai.operation.name', value: { stringValue: 'execute_tool' } },
        { key: 'gen_ai.tool.name', value: { stringValue: `tool-${i}` } },
        ...(padBytes > 0 ? [{ key: 'test.padding', value: { stringValue: randomBytes(padBytes).toString('base64').slice(0, padBytes) } }] : []),
      ],
      status: {},
    };
  });
  const request: { resourceSpans: { resource: object; scopeSpans: { scope: object; spans: Record<string, unknown>[] }[] }[] } = {
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: 'kafka-test-agent' } },
            { key: 'gen_ai.agent.id', value: { stringValue: 'spiffe://test.example/agent/kafka' } },
          ],
        },
        scopeSpans: [{ scope: { name: 'chainsight-test' }, spans }],
      },
    ],
  };
  return { request, spanIds };
}

/** The real OTLP decoder with default limits, as the processor wires it. */
export const otlpDecoder: SpanDecoder = (value, format) => decodeOtlp(value, format, DEFAULT_INGEST_LIMITS);
