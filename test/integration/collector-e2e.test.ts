/**
 * The whole scale path: agents using the OpenTelemetry SDK with the OTLP
 * protobuf exporter → the builder-made Collector (collectors/gateway.yaml:
 * kafka exporter, otlp_proto, partition_traces_by_id, gzip) → Kafka → two
 * processor instances in one consumer group → chdb. The first run builds the
 * Collector (minutes); later runs reuse the cached binary.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ATTR } from '../../src/model/span.js';
import { createLogger } from '../../src/runtime/logger.js';
import type { AgentTelemetry } from '../../src/sdk/telemetry.js';
import { emitTask, expectationsFor, mintTaskChains, taskSize, type AgentName } from '../support/agent-tasks.js';
import { collectorUnavailable, startCollector, type RunningCollector } from '../support/collector.js';
import { kafkaBrokers, otlpDecoder, releaseKafka, testKafka, uniqueTopic, waitFor } from '../support/kafka.js';
import { makeTrustDomain, type TestDomain } from '../support/keys.js';
import { startTestAgent } from '../support/otel.js';
import { metricSum } from '../support/processor-child.js';
import { allCommitted, assertTaskStored, rawRows, rebalanced, startProcessorGroup, sumMetric, type ProcessorGroup } from '../support/processor-group.js';

const AGENTS: readonly AgentName[] = ['planner', 'inventory', 'scanner'];
const TASKS = 8;
let brokers: string[] = [];
let skipReason: string | undefined;
let domain: TestDomain;
let dataDir: string;
let group: ProcessorGroup | undefined;
let collector: RunningCollector | undefined;
const agents: AgentTelemetry[] = [];
const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

// Building the Collector from scratch takes minutes on a 2-core CI machine; it happens here, once.
before(async () => {
  const found = await kafkaBrokers();
  if (typeof found === 'string') {
    skipReason = found;
    return;
  }
  brokers = found;
  skipReason = await collectorUnavailable();
  domain = await makeTrustDomain();
  dataDir = mkdtempSync(join(tmpdir(), 'chainsight-collector-e2e-'));
}, { timeout: 30 * 60_000 });

after(async () => {
  await Promise.allSettled(agents.map((a) => a.shutdown()));
  await collector?.stop();
  await group?.stop();
  await domain?.cleanup();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  await releaseKafka();
});

/** The SDK's OTLP/protobuf exporter, keeping a copy of what it was handed so the test knows every span id. */
class TeeExporter implements SpanExporter {
  readonly exported: ReadableSpan[] = [];
  constructor(private readonly inner: SpanExporter) {}
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      if (result.code === 0) this.exported.push(...spans);
      else console.error(`# export of ${spans.length} spans failed: ${result.error?.message ?? 'no error given'}`);
      done(result);
    });
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/** Which partitions each trace's spans landed on, read back from the topic. */
async function partitionsByTrace(topic: string, messages: number): Promise<Map<string, Set<number>>> {
  const consumer = testKafka(brokers).consumer({ groupId: uniqueTopic('trace-reader') });
  const out = new Map<string, Set<number>>();
  let seen = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        seen++;
        for (const s of otlpDecoder(message.value ?? Buffer.alloc(0), 'protobuf').spans) {
          const set = out.get(s.traceId) ?? new Set<number>();
          set.add(partition);
          out.set(s.traceId, set);
        }
      },
    });
    await waitFor(`${messages} messages read back`, () => seen >= messages, 30_000);
  } finally {
    await consumer.disconnect();
  }
  return out;
}

test('agents → OTel SDK (OTLP/protobuf) → Collector → Kafka → two processors → chdb: every span stored once with the right verdict', { timeout: 35 * 60_000 }, async (t) => {
  if (skipReason) return t.skip(skipReason);
  group = await startProcessorGroup({ brokers, dataDir, trustDir: domain.dir, logger, partitions: 4, members: 2, topicPrefix: 'gateway' });
  const g = group;
  collector = await startCollector({ kafkaBrokers: brokers, topic: g.config.kafka.topic, startTimeoutMs: 60_000 });

  const tees = {} as Record<AgentName, TeeExporter>;
  const tracers = {} as Record<AgentName, AgentTelemetry['tracer']>;
  for (const agent of AGENTS) {
    // The planner compresses its exports, as agents behind a slow link would.
    // Generous time-outs: on a busy 2-core runner the Collector's disk-backed queue can answer slowly, and a timed-out export is not retried.
    tees[agent] = new TeeExporter(new OTLPTraceExporter({ url: collector.tracesUrl, compression: (agent === 'planner' ? 'gzip' : 'none') as never, timeoutMillis: 60_000 }));
    const telemetry = startTestAgent({ serviceName: agent, agentId: domain.id(agent), url: collector.tracesUrl, exporter: tees[agent], batch: { exportTimeoutMillis: 90_000 } });
    agents.push(telemetry);
    tracers[agent] = telemetry.tracer;
  }

  const taskIds: string[] = [];
  for (let i = 0; i < TASKS; i++) {
    const taskId = uniqueTopic('gw-task');
    taskIds.push(taskId);
    emitTask(domain, taskId, await mintTaskChains(domain, taskId), tracers);
  }
  await Promise.all(agents.map((a) => a.forceFlush()));

  const sent = AGENTS.flatMap((a) => tees[a].exported);
  const tasks = taskIds.map((taskId) => {
    const mine = (a: AgentName) => tees[a].exported.filter((s) => s.attributes[ATTR.taskId] === taskId);
    return { taskId, expected: expectationsFor({ planner: mine('planner'), inventory: mine('inventory'), scanner: mine('scanner') }) };
  });
  assert.equal(tasks.reduce((n, task) => n + task.expected.size, 0), sent.length, 'every exported span belongs to one task');
  const perTask = Object.values(taskSize()).reduce((a, b) => a + b, 0);
  assert.equal(sent.length, TASKS * perTask, 'the SDK exported every span it ended');

  await waitFor('every span stored', async () => (await g.queries.countActions()) >= sent.length, 60_000);
  await waitFor('offsets committed up to the high watermarks', () => allCommitted(g), 20_000);
  for (const task of tasks) await assertTaskStored(g.queries, domain, task);
  assert.equal(await g.queries.countActions(), sent.length);

  // partition_traces_by_id: all spans of a trace share one partition, so one member sees a trace whole.
  const messages = await sumMetric(g, 'chainsight_kafka_messages_total');
  const byTrace = await partitionsByTrace(g.config.kafka.topic, messages);
  assert.deepEqual(new Set(byTrace.keys()), new Set(sent.map((s) => s.spanContext().traceId)), 'every trace read back');
  for (const [traceId, partitions] of byTrace) assert.equal(partitions.size, 1, `trace ${traceId} spread over partitions ${[...partitions].join(',')}`);
  const used = new Set([...byTrace.values()].flatMap((p) => [...p]));
  t.diagnostic(`${sent.length} spans in ${messages} Kafka records over partitions ${[...used].sort().join(',')}`);

  for (const m of g.members) {
    assert.ok(metricSum(await m.pipeline.metrics.registry.metrics(), 'chainsight_kafka_messages_total') > 0, 'both members consumed');
  }
  if (!rebalanced(g)) {
    assert.equal(await sumMetric(g, 'chainsight_spans_received_total', { source: 'kafka' }), sent.length, 'nothing redelivered');
    for (const task of tasks) assert.equal(await rawRows(g, task.taskId), task.expected.size, 'no duplicate rows');
  } else {
    t.diagnostic('the group rebalanced during the test; exact-count checks skipped');
  }
  // The Collector's own count (named with or without _total depending on its Prometheus exporter).
  const collectorMetrics = await (await fetch(collector.metricsUrl)).text();
  const sentByCollector = ['otelcol_exporter_sent_spans', 'otelcol_exporter_sent_spans_total']
    .reduce((n, name) => n + metricSum(collectorMetrics, name, { exporter: 'kafka' }), 0);
  assert.equal(sentByCollector, sent.length, "the Collector's kafka exporter sent every span once");
});
