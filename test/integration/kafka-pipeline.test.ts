/**
 * The Kafka scale path inside one process: two processor instances
 * (startConsumer: KafkaSpanSource + Processor + store) in one consumer group
 * on a 4-partition topic, against a real broker and the real embedded store.
 * Both instances share one chdb data directory (allowed within a process);
 * every test gets its own topic, group and database.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { DLQ_HEADER, headerText } from '../../src/ingest/kafka-message.js';
import { createLogger } from '../../src/runtime/logger.js';
import type { ActionNode, AgentNode, TaskTree } from '../../src/serve/tree.js';
import { openClient } from '../../src/store/client.js';
import { allStatements } from '../../src/store/migrate.js';
import { mintTaskChains, PURPOSE, recordTask, type AgentName, type RecordedTask, type TaskChains } from '../support/agent-tasks.js';
import { committedOffsets, highWatermarks, kafkaBrokers, produce, readTopic, releaseKafka, uniqueTopic, waitFor } from '../support/kafka.js';
import { HUMAN, makeTrustDomain, type TestDomain } from '../support/keys.js';
import { serializeSpans, type Encoding } from '../support/otel.js';
import { metricSum } from '../support/processor-child.js';
import {
  allCommitted,
  assertTaskStored,
  rawRows,
  rebalanced,
  startProcessorGroup,
  sumMetric,
  type ProcessorGroup,
} from '../support/processor-group.js';

const PARTITIONS = 4;
let brokers: string[] = [];
let skipReason: string | undefined;
let domain: TestDomain;
let dataDir: string;
const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

before(async () => {
  const found = await kafkaBrokers();
  if (typeof found === 'string') skipReason = found;
  else brokers = found;
  domain = await makeTrustDomain();
  dataDir = mkdtempSync(join(tmpdir(), 'chainsight-kafka-pipeline-'));
});

// Safety net: a test that times out mid-wait never reaches its finally block in time.
const groups = new Set<ProcessorGroup>();

after(async () => {
  await Promise.allSettled([...groups].map((g) => g.stop()));
  await domain?.cleanup();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  await releaseKafka();
});

/** Two processor instances in a fresh group on a fresh 4-partition topic, each holding two partitions. */
async function startGroup(retry?: { initialMs: number; maxMs: number }): Promise<ProcessorGroup> {
  const g = await startProcessorGroup({ brokers, dataDir, trustDir: domain.dir, logger, partitions: PARTITIONS, members: 2, ...(retry ? { retry } : {}) });
  groups.add(g);
  return g;
}

/** Spans cut into OTLP export messages of `perMessage` spans, encodings alternating, partitions chosen by `partition`. */
function toMessages(spans: ReadableSpan[], perMessage: number, partition: (i: number) => number, encodings: Encoding[] = ['protobuf', 'json']) {
  const out: { partition: number; value: Buffer }[] = [];
  for (let i = 0; i * perMessage < spans.length; i++) {
    const chunk = spans.slice(i * perMessage, (i + 1) * perMessage);
    out.push({ partition: partition(i), value: Buffer.from(serializeSpans(chunk, encodings[i % encodings.length]!)) });
  }
  return out;
}

async function recordTasks(prefix: string, n: number, shape?: Parameters<typeof recordTask>[3]): Promise<RecordedTask[]> {
  const tasks: RecordedTask[] = [];
  for (let i = 0; i < n; i++) {
    const taskId = uniqueTopic(`${prefix}-task`);
    const chains: TaskChains = await mintTaskChains(domain, taskId);
    tasks.push(await recordTask(domain, taskId, chains, shape));
  }
  return tasks;
}

describe('Kafka → two processor instances → ClickHouse (chdb)', { timeout: 300_000 }, () => {
  test('spans of several tasks in OTLP protobuf and JSON messages are stored once each, with the right verdicts; offsets are committed', { timeout: 60_000 }, async (t) => {
    if (skipReason) return t.skip(skipReason);
    const g = await startGroup();
    try {
      const tasks = await recordTasks('a', 4);
      const spans = tasks.flatMap((task) => task.spans);
      const messages = toMessages(spans, 3, (i) => i % PARTITIONS);
      await produce(brokers, g.config.kafka.topic, messages);

      await waitFor('every span stored', async () => (await g.queries.countActions()) >= spans.length, 30_000);
      await waitFor('offsets committed up to the high watermarks', () => allCommitted(g), 15_000);
      for (const task of tasks) await assertTaskStored(g.queries, domain, task);
      assert.equal(await g.queries.countActions(), spans.length);

      const { tasks: listed } = await g.queries.listTasks({ human: HUMAN });
      assert.deepEqual(new Set(listed.map((l) => l.task_id)), new Set(tasks.map((task) => task.taskId)));
      for (const l of listed) {
        assert.equal(l.actions, tasks.find((task) => task.taskId === l.task_id)!.spans.length);
        assert.equal(l.failed, 2, `${l.task_id}: the scope breach and the borrowed chain`);
        assert.equal(l.purpose, PURPOSE);
      }

      // Both instances did part of the work, from their own partitions.
      for (const m of g.members) {
        assert.ok(metricSum(await m.pipeline.metrics.registry.metrics(), 'chainsight_kafka_messages_total') > 0, 'each member consumed');
      }
      if (!rebalanced(g)) {
        // No rebalance after the group settled: nothing was redelivered, so nothing was written or counted twice.
        assert.equal(await sumMetric(g, 'chainsight_kafka_messages_total'), messages.length);
        assert.equal(await sumMetric(g, 'chainsight_spans_received_total', { source: 'kafka' }), spans.length);
        assert.equal(await sumMetric(g, 'chainsight_verdicts_total', { status: 'failed' }), 2 * tasks.length);
        assert.equal(await sumMetric(g, 'chainsight_verdict_reasons_total', { reason: 'agent.mismatch' }), tasks.length);
        for (const task of tasks) assert.equal(await rawRows(g, task.taskId), task.spans.length, 'no duplicate rows');
      } else {
        t.diagnostic('the group rebalanced during the test; exact-count metric checks skipped');
      }
      assert.equal(await sumMetric(g, 'chainsight_kafka_dead_lettered_total'), 0);
    } finally {
      await g.stop();
    }
  });

  test('one task spread over traces and partitions, children and sub-agents first, comes out as the right tree', { timeout: 60_000 }, async (t) => {
    if (skipReason) return t.skip(skipReason);
    const g = await startGroup();
    try {
      const [task] = await recordTasks('b', 1, { inventoryTools: 3, scannerJobs: 3, scannerTools: 4 });
      const { byAgent, taskId } = task!;
      assert.equal(new Set(task!.spans.map((s) => s.spanContext().traceId)).size, 3, 'the task spans three traces');
      // Recorded spans come in end order: children before their parents. The
      // delegated-to agents go first, and each agent's spans must be stored
      // before its delegator's are even produced: a real out-of-order arrival.
      let stored = 0;
      let offset = 0;
      for (const agent of ['scanner', 'inventory', 'planner'] as const) {
        const spans = byAgent[agent];
        await produce(brokers, g.config.kafka.topic, toMessages(spans, 2, (i) => (offset + i * 3) % PARTITIONS));
        offset += spans.length;
        stored += spans.length;
        await waitFor(`${agent} spans stored`, async () => (await g.queries.taskActions(taskId)).length >= stored, 20_000);
      }

      const res = await fetch(`${g.members[0]!.apiUrl}/api/tasks/${encodeURIComponent(taskId)}/tree`);
      assert.equal(res.status, 200);
      const tree = (await res.json()) as TaskTree;
      assert.equal(tree.total, task!.expected.size);
      assert.equal(tree.failed, 2);
      assert.equal(tree.verified, task!.expected.size - 2);
      assert.deepEqual(tree.failuresByReason, { 'scope.exceeded': 1, 'agent.mismatch': 1 });
      assert.equal(tree.rootHuman, HUMAN);
      assert.equal(tree.purpose, PURPOSE);
      assert.deepEqual(tree.unattributed, []);

      // Agents nest by delegation path: human → planner → inventory → scanner.
      assert.equal(tree.agents.length, 1);
      const planner = tree.agents[0]!;
      assert.equal(planner.agentId, domain.id('planner'));
      assert.equal(planner.delegatedBy, HUMAN);
      assert.equal(planner.delegates.length, 1);
      const inventory = planner.delegates[0]!;
      assert.equal(inventory.agentId, domain.id('inventory'));
      assert.equal(inventory.delegates.length, 1);
      const scanner = inventory.delegates[0]!;
      assert.equal(scanner.agentId, domain.id('scanner'));
      assert.deepEqual(scanner.delegates, []);
      const nodes: Record<AgentName, AgentNode> = { planner, inventory, scanner };
      for (const agent of ['planner', 'inventory', 'scanner'] as const) {
        assert.equal(nodes[agent].actions, byAgent[agent].length, `${agent} action count`);
      }

      // Actions nest by parent span within each agent; a span whose parent belongs to another agent (or none) is a root.
      const placed = new Map<string, { agent: string; parent: string }>();
      const walk = (agentId: string, list: ActionNode[], parent: string): void => {
        for (const n of list) {
          assert.ok(!placed.has(n.spanId), `span ${n.spanId} appears twice in the tree`);
          placed.set(n.spanId, { agent: agentId, parent });
          walk(agentId, n.children, n.spanId);
        }
      };
      for (const node of Object.values(nodes)) walk(node.agentId, node.actionTree, '');
      assert.equal(placed.size, task!.expected.size);
      const agentOf = new Map([...task!.expected.values()].map((e) => [e.spanId, e.agent]));
      for (const e of task!.expected.values()) {
        const sameAgentParent = e.parentSpanId && agentOf.get(e.parentSpanId) === e.agent ? e.parentSpanId : '';
        assert.deepEqual(placed.get(e.spanId), { agent: domain.id(e.agent), parent: sameAgentParent }, `${e.agent} ${e.name} ${e.spanId}`);
      }
      assert.equal(planner.actionTree.length, 1, "the planner's root span");
      assert.equal(planner.actionTree[0]!.children.length, 1, 'its delegation to the inventory agent');
      assert.equal(inventory.actionTree.length, 1);
      assert.equal(inventory.actionTree[0]!.children.length, 4, 'three tools and the delegation to the scanner');
      assert.equal(scanner.actionTree.length, 3, 'one root per scanner job, in three traces');
      assert.ok(scanner.actionTree.every((job) => job.children.some((tool) => tool.children.length === 1)), 'a nested tool call under each job');
      t.diagnostic(`tree: ${tree.total} actions over ${Object.keys(tree.actionsByAgent).length} agents`);
    } finally {
      await g.stop();
    }
  });

  test('a message delivered twice (same and different partitions) is stored once', { timeout: 60_000 }, async (t) => {
    if (skipReason) return t.skip(skipReason);
    const g = await startGroup();
    try {
      const [task] = await recordTasks('c', 1);
      const messages = toMessages(task!.spans, 5, (i) => i % PARTITIONS);
      // What a producer retrying after a lost ack, or a consumer that died before committing, delivers.
      const again = messages.map((m, i) => ({ ...m, partition: i % 2 === 0 ? m.partition : (m.partition + 2) % PARTITIONS }));
      await produce(brokers, g.config.kafka.topic, messages);
      await produce(brokers, g.config.kafka.topic, again);

      await waitFor('both deliveries processed', async () => (await sumMetric(g, 'chainsight_spans_received_total', { source: 'kafka' })) >= 2 * task!.spans.length, 30_000);
      await waitFor('offsets committed', () => allCommitted(g), 15_000);
      assert.equal(await sumMetric(g, 'chainsight_spans_received_total', { source: 'kafka' }), 2 * task!.spans.length, 'every span really arrived twice');
      await assertTaskStored(g.queries, domain, task!);
      assert.equal(await g.queries.countActions(), task!.spans.length);
      const [listed] = (await g.queries.listTasks({})).tasks;
      assert.equal(listed?.actions, task!.spans.length);
      // Each delegation link once: the inventory agent received one and issued one.
      const links = await g.queries.agentDelegations(domain.id('inventory'));
      assert.equal(links.length, 2);
      assert.equal(new Set(links.map((l) => l.link_hash)).size, 2);
      t.diagnostic(`${await rawRows(g, task!.taskId)} physical rows for ${task!.spans.length} spans (duplicates fold at merge time)`);
    } finally {
      await g.stop();
    }
  });

  test('a poison message goes to the DLQ with error and source headers; its partition moves on and the valid messages after it are stored', { timeout: 60_000 }, async (t) => {
    if (skipReason) return t.skip(skipReason);
    const g = await startGroup();
    try {
      const [task] = await recordTasks('d', 1);
      const valid = toMessages(task!.spans, 4, () => 1);
      const badJson = Buffer.from('{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":');
      const badProto = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]);
      // Partition 1: valid, poison, valid..., poison, valid: offsets of the poison messages are 1 and 3.
      const p1 = [valid[0]!, { partition: 1, value: badJson }, valid[1]!, { partition: 1, value: badProto, headers: { origin: 'gateway-3' } }, ...valid.slice(2)];
      await produce(brokers, g.config.kafka.topic, p1);

      await waitFor('valid spans stored', async () => (await g.queries.countActions()) >= task!.spans.length, 30_000);
      await waitFor('partition 1 committed past everything', () => allCommitted(g), 15_000);
      await assertTaskStored(g.queries, domain, task!);
      assert.equal((await committedOffsets(brokers, g.config.kafka.groupId, g.config.kafka.topic)).get(1), p1.length);

      const dead = await readTopic(brokers, g.config.kafka.dlqTopic, 2);
      const byOffset = new Map(dead.map((m) => [headerText(m.headers, DLQ_HEADER.sourceOffset), m]));
      assert.deepEqual([...byOffset.keys()].sort(), ['1', '3']);
      for (const [offset, body] of [['1', badJson], ['3', badProto]] as const) {
        const m = byOffset.get(offset)!;
        assert.deepEqual(m.value, body, 'the message is dead-lettered unchanged');
        assert.equal(headerText(m.headers, DLQ_HEADER.sourceTopic), g.config.kafka.topic);
        assert.equal(headerText(m.headers, DLQ_HEADER.sourcePartition), '1');
        assert.ok((headerText(m.headers, DLQ_HEADER.error) ?? '').length > 0, 'the decode error travels with it');
      }
      assert.equal(headerText(byOffset.get('3')!.headers, 'origin'), 'gateway-3', 'original headers kept');
      assert.equal((await highWatermarks(brokers, g.config.kafka.dlqTopic)).get(0), 2, 'only the poison messages');
      assert.equal(await sumMetric(g, 'chainsight_kafka_dead_lettered_total'), 2);
    } finally {
      await g.stop();
    }
  });

  test('while ClickHouse refuses inserts nothing is committed and retries show in the metrics; once restored everything arrives once', { timeout: 90_000 }, async (t) => {
    if (skipReason) return t.skip(skipReason);
    const g = await startGroup({ initialMs: 100, maxMs: 800 });
    const admin = openClient(g.config.store);
    const db = g.config.store.database;
    try {
      // A first task goes through normally: the offsets to compare against.
      const [first, during] = await recordTasks('e', 2);
      await produce(brokers, g.config.kafka.topic, toMessages(first!.spans, 4, (i) => i % PARTITIONS));
      await waitFor('first task stored and committed', async () => (await g.queries.countActions()) >= first!.spans.length && (await allCommitted(g)), 30_000);
      const before = await committedOffsets(brokers, g.config.kafka.groupId, g.config.kafka.topic);
      const errorsBefore = await sumMetric(g, 'chainsight_store_write_errors_total', { table: 'actions' });

      // The store loses its actions table: every insert now fails with UNKNOWN_TABLE.
      await admin.command({ query: `DROP TABLE ${db}.actions SYNC` });
      const messages = toMessages(during!.spans, 2, (i) => i % PARTITIONS);
      await produce(brokers, g.config.kafka.topic, messages);
      await waitFor('the processors to retry against the failing store', async () => (await sumMetric(g, 'chainsight_kafka_retries_total')) >= 6, 30_000);
      assert.ok((await sumMetric(g, 'chainsight_store_write_errors_total', { table: 'actions' })) > errorsBefore, 'failed inserts are counted');
      assert.deepEqual(await committedOffsets(brokers, g.config.kafka.groupId, g.config.kafka.topic), before, 'nothing committed while the store refuses');
      assert.ok(g.members.some((m) => m.source.pausedPartitions().length > 0), 'partitions paused for backpressure');
      assert.ok((await sumMetric(g, 'chainsight_kafka_paused')) > 0, 'pauses are visible as a metric');
      const retriesDuringOutage = await sumMetric(g, 'chainsight_kafka_retries_total');

      // Restored the way an operator would: the printed DDL, all idempotent, recreates the table.
      for (const s of await allStatements(db)) await admin.command({ query: s.sql });
      await waitFor('spans produced during the outage stored', async () => (await g.queries.countActions()) >= during!.spans.length, 30_000);
      await waitFor('offsets committed after recovery', () => allCommitted(g), 15_000);
      await assertTaskStored(g.queries, domain, during!);
      assert.equal(await g.queries.countActions(), during!.spans.length, 'only the outage task is in the recreated table');
      if (!rebalanced(g)) {
        assert.equal(await rawRows(g, during!.taskId), during!.spans.length, 'a refused insert wrote nothing: no duplicates after the retries');
      } else {
        t.diagnostic('the group rebalanced during the outage; raw-row check skipped');
      }
      assert.ok(g.members.every((m) => m.source.pausedPartitions().length === 0), 'resumed');
      assert.equal(await sumMetric(g, 'chainsight_kafka_paused'), 0, 'the pause gauge falls back once resumed');
      t.diagnostic(`retries during the outage: ${retriesDuringOutage}`);
    } finally {
      await admin.close();
      await g.stop();
    }
  });
});
