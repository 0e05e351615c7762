/**
 * Test helper: processor instances (startConsumer) in one consumer group
 * inside the test process, on a fresh topic, group and database, and the
 * checks the Kafka end-to-end tests make on what they stored.
 */
import assert from 'node:assert/strict';
import { loadConfig, type ChainsightConfig } from '../../src/config/config.js';
import { startConsumer, type RunningConsumer } from '../../src/runtime/consumer.js';
import type { Logger } from '../../src/runtime/logger.js';
import { openClient } from '../../src/store/client.js';
import type { Queries } from '../../src/store/queries.js';
import type { ExpectedAction } from './agent-tasks.js';
import { committedOffsets, highWatermarks, uniqueTopic, waitFor } from './kafka.js';
import { HUMAN, type TestDomain } from './keys.js';
import { metricSum } from './processor-child.js';

export interface ProcessorGroup {
  brokers: string[];
  config: ChainsightConfig;
  members: RunningConsumer[];
  /** Queries of one member (all members share the store). */
  queries: Queries;
  /** Group joins per member once the group settled: a later change means a rebalance (and possible redelivery). */
  settledJoins: number[];
  stop(): Promise<void>;
}

let dbSeq = 0;

export interface GroupOptions {
  brokers: string[];
  /** Embedded store directory, shared by all members (one process may open it several times). */
  dataDir: string;
  trustDir: string;
  logger: Logger;
  partitions?: number;
  members?: number;
  topicPrefix?: string;
  retry?: { initialMs: number; maxMs: number };
}

/**
 * Starts the members one after another and waits until the partitions are
 * spread evenly, so the test's messages meet a settled group. The first
 * member serves the query API on a free port.
 */
export async function startProcessorGroup(o: GroupOptions): Promise<ProcessorGroup> {
  const partitions = o.partitions ?? 4;
  const count = o.members ?? 2;
  const topic = uniqueTopic(o.topicPrefix ?? 'pipeline');
  const config = loadConfig(
    {
      ...process.env,
      KAFKA_BROKERS: o.brokers.join(','),
      CHAINSIGHT_KAFKA_TOPIC: topic,
      CHAINSIGHT_KAFKA_DLQ_TOPIC: `${topic}.dlq`,
      CHAINSIGHT_KAFKA_GROUP: uniqueTopic('processors'),
      CHAINSIGHT_KAFKA_PARTITIONS: String(partitions),
      CHAINSIGHT_DATABASE: `kp_${process.pid}_${++dbSeq}`,
    },
    { data: o.dataDir, trustDir: o.trustDir, apiPort: 0 },
  );
  const members: RunningConsumer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.allSettled(members.map((m) => m.stop()));
    // On a shared server the test's database would outlive it; chdb's directory goes with the test's temp dir.
    if (config.store.target.kind === 'server') {
      const admin = openClient(config.store);
      await admin.command({ query: `DROP DATABASE IF EXISTS ${config.store.database}` }).catch(() => undefined);
      await admin.close();
    }
  };
  try {
    for (let i = 0; i < count; i++) {
      members.push(
        await startConsumer(config, o.logger, { serveApi: i === 0, retry: o.retry ?? { initialMs: 50, maxMs: 400 }, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 500 }),
      );
    }
    // Each partition held by exactly one member, and no member idle: the rebalance after the last join is done.
    const all = Array.from({ length: partitions }, (_, i) => i).join(',');
    const settled = (): boolean =>
      members.every((m) => m.source.assignment().length > 0) &&
      members.flatMap((m) => m.source.assignment()).sort((a, b) => a - b).join(',') === all;
    await waitFor('the partitions to be spread over the members', settled, 30_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { brokers: o.brokers, config, members, queries: members[0]!.pipeline.queries, settledJoins: members.map((m) => m.source.groupJoins()), stop };
}

export const rebalanced = (g: ProcessorGroup): boolean => g.members.some((m, i) => m.source.groupJoins() !== g.settledJoins[i]);

/** A Prometheus metric summed over the members' registries. */
export async function sumMetric(g: ProcessorGroup, name: string, labels: Record<string, string> = {}): Promise<number> {
  let sum = 0;
  for (const m of g.members) sum += metricSum(await m.pipeline.metrics.registry.metrics(), name, labels);
  return sum;
}

/** Whether the group's committed offset equals the high watermark on every non-empty partition. */
export async function allCommitted(g: ProcessorGroup): Promise<boolean> {
  const [committed, high] = await Promise.all([
    committedOffsets(g.brokers, g.config.kafka.groupId, g.config.kafka.topic),
    highWatermarks(g.brokers, g.config.kafka.topic),
  ]);
  return [...high].every(([p, hw]) => hw === 0 || committed.get(p) === hw);
}

/** Rows physically in the actions table for a task, redeliveries not yet merged away included. */
export async function rawRows(g: ProcessorGroup, taskId: string): Promise<number> {
  const rs = await g.members[0]!.pipeline.readerClient.query({
    query: `SELECT count() AS n FROM ${g.config.store.database}.actions WHERE task_id = {task:String}`,
    query_params: { task: taskId },
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ n: string }>();
  return Number(row?.n ?? 0);
}

/** Every expected span of the task is stored once, with the verdict, reasons, parent and agent it should have, and nothing else is. */
export async function assertTaskStored(q: Queries, d: TestDomain, task: { taskId: string; expected: Map<string, ExpectedAction> }): Promise<void> {
  const actions = await q.taskActions(task.taskId);
  const keys = actions.map((a) => `${a.trace_id}/${a.span_id}`);
  assert.equal(new Set(keys).size, keys.length, `${task.taskId}: a span came back twice`);
  assert.deepEqual(new Set(keys), new Set(task.expected.keys()), `${task.taskId}: stored spans differ from the spans sent`);
  for (const a of actions) {
    const e = task.expected.get(`${a.trace_id}/${a.span_id}`)!;
    assert.equal(a.verdict, e.verdict, `${e.name} ${e.spanId}: verdict (${a.reasons.join(',')})`);
    assert.deepEqual(a.reasons, e.reasons, `${e.name} ${e.spanId}: reasons`);
    assert.equal(a.parent_span_id, e.parentSpanId, `${e.name} ${e.spanId}: parent`);
    assert.equal(a.agent_id, d.id(e.agent), `${e.name} ${e.spanId}: agent`);
    assert.equal(a.root_human, HUMAN);
  }
}
