/**
 * Observing a consumer from outside (broker offsets through the admin API) and
 * from inside (the source's metric callbacks), for bench/kafka.ts.
 */
import { Kafka, logLevel, type Admin } from 'kafkajs';
import type { KafkaSpanSource } from '../src/ingest/kafka-source.js';

/** Broker-side view: high watermarks and a group's committed offsets, by partition. */
export class OffsetWatch {
  private constructor(private readonly admin: Admin) {}

  static async open(brokers: string[]): Promise<OffsetWatch> {
    const admin = new Kafka({ brokers, clientId: 'chainsight-bench-watch', logLevel: logLevel.ERROR }).admin();
    await admin.connect();
    return new OffsetWatch(admin);
  }

  async highWatermarks(topic: string): Promise<number[]> {
    const out: number[] = [];
    for (const p of await this.admin.fetchTopicOffsets(topic)) out[p.partition] = Number(p.high);
    return out;
  }

  /** Committed offset per partition (the next offset to read); 0 where the group has none yet (topics here start at 0). */
  async committed(groupId: string, topic: string): Promise<number[]> {
    const [entry] = await this.admin.fetchOffsets({ groupId, topics: [topic] });
    const out: number[] = [];
    for (const p of entry?.partitions ?? []) out[p.partition] = Math.max(0, Number(p.offset));
    return out;
  }

  /** Messages produced but not yet committed by the group, per partition. */
  async lag(groupId: string, topic: string): Promise<{ high: number[]; committed: number[]; total: number }> {
    const [high, committed] = await Promise.all([this.highWatermarks(topic), this.committed(groupId, topic)]);
    let total = 0;
    for (let p = 0; p < high.length; p++) total += Math.max(0, (high[p] ?? 0) - (committed[p] ?? 0));
    return { high, committed, total };
  }

  /** Waits (polling) until the group has committed everything produced so far. */
  async waitCaughtUp(groupId: string, topic: string, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const { total } = await this.lag(groupId, topic);
      if (total === 0) return;
      if (Date.now() > until) throw new Error(`group ${groupId} still ${total} messages behind on ${topic} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  close(): Promise<void> {
    return this.admin.disconnect();
  }
}

/** Consumer-side view: when the first message arrived and the last commit happened, with process CPU at both. */
export interface ConsumerProbe {
  messages: number;
  spans: number;
  commits: number;
  firstAt: number;
  lastCommitAt: number;
  cpuAtFirst: NodeJS.CpuUsage;
  cpuAtLastCommit: NodeJS.CpuUsage;
}

/**
 * Wraps the source's metric callbacks (still calling the originals). Call it
 * right after startConsumer resolves: nothing can have been consumed yet, since
 * startConsumer returns without awaiting anything once the consumer runs and a
 * fetch needs I/O. bench/kafka.ts checks that against the process's counter.
 */
export function probeConsumer(source: KafkaSpanSource): ConsumerProbe {
  const probe: ConsumerProbe = { messages: 0, spans: 0, commits: 0, firstAt: 0, lastCommitAt: 0, cpuAtFirst: process.cpuUsage(), cpuAtLastCommit: process.cpuUsage() };
  const m = source.metrics;
  const consumed = m.messagesConsumed.bind(m);
  const ingested = m.spansIngested.bind(m);
  const committed = m.offsetsCommitted.bind(m);
  m.messagesConsumed = (topic, partition, count) => {
    if (probe.messages === 0) {
      probe.firstAt = performance.now();
      probe.cpuAtFirst = process.cpuUsage();
    }
    probe.messages += count;
    consumed(topic, partition, count);
  };
  m.spansIngested = (count) => {
    probe.spans += count;
    ingested(count);
  };
  m.offsetsCommitted = (topic, partition) => {
    probe.commits++;
    probe.lastCommitAt = performance.now();
    probe.cpuAtLastCommit = process.cpuUsage();
    committed(topic, partition);
  };
  return probe;
}

/** CPU seconds (user + system, every thread of the process: JS, zlib, the embedded engine) between two readings. */
export function cpuSeconds(from: NodeJS.CpuUsage, to: NodeJS.CpuUsage): number {
  return (to.user - from.user + to.system - from.system) / 1e6;
}
