/**
 * Test helper: one processor instance (startConsumer) on chdb behind a topic
 * the test created, for tests whose subject is what happens before Kafka.
 */
import { loadConfig, type ChainsightConfig } from '../../src/config/config.js';
import { startConsumer, type RunningConsumer } from '../../src/runtime/consumer.js';
import type { Logger } from '../../src/runtime/logger.js';
import { committedOffsets, highWatermarks, uniqueTopic } from './kafka.js';

export interface SingleProcessor {
  config: ChainsightConfig;
  consumer: RunningConsumer;
  /** Rows physically in the actions table for a task, copies not yet merged away included. */
  physicalRows(taskId: string): Promise<number>;
  /** Whether the group's committed offset equals the high watermark on every non-empty partition. */
  caughtUp(): Promise<boolean>;
  stop(): Promise<void>;
}

let dbSeq = 0;

export async function startSingleProcessor(o: {
  brokers: string[];
  topic: string;
  partitions: number;
  dataDir: string;
  trustDir: string;
  logger: Logger;
}): Promise<SingleProcessor> {
  const config = loadConfig(
    {
      ...process.env,
      KAFKA_BROKERS: o.brokers.join(','),
      CHAINSIGHT_KAFKA_TOPIC: o.topic,
      CHAINSIGHT_KAFKA_DLQ_TOPIC: `${o.topic}.dlq`,
      CHAINSIGHT_KAFKA_GROUP: uniqueTopic('processor'),
      CHAINSIGHT_KAFKA_PARTITIONS: String(o.partitions),
      CHAINSIGHT_DATABASE: `sp_${process.pid}_${++dbSeq}`,
    },
    { data: o.dataDir, trustDir: o.trustDir, apiPort: 0 },
  );
  const consumer = await startConsumer(config, o.logger, {
    serveApi: false,
    retry: { initialMs: 50, maxMs: 400 },
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 500,
  });
  return {
    config,
    consumer,
    physicalRows: async (taskId) => {
      const rs = await consumer.pipeline.readerClient.query({
        query: `SELECT count() AS n FROM ${config.store.database}.actions WHERE task_id = {task:String}`,
        query_params: { task: taskId },
        format: 'JSONEachRow',
      });
      return Number((await rs.json<{ n: string }>())[0]?.n ?? 0);
    },
    caughtUp: async () => {
      const [committed, high] = await Promise.all([committedOffsets(o.brokers, config.kafka.groupId, o.topic), highWatermarks(o.brokers, o.topic)]);
      return [...high].every(([p, hw]) => hw === 0 || committed.get(p) === hw);
    },
    stop: () => consumer.stop(),
  };
}
