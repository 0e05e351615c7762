/**
 * Notifications on a Kafka topic, keyed by alert id (one alert's firing and
 * resolution land in one partition, in order), the idempotency key in a
 * header. The producer is idempotent, so its own retries do not duplicate.
 */
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { kafkajsLogCreator, type KafkaLogger } from '../../ingest/kafka-logging.js';
import { alertmanagerPayload } from './alertmanager.js';
import type { Destination, OutboxEntry } from './destination.js';
import { ocsfDetectionFinding } from './ocsf.js';
import { IDEMPOTENCY_HEADER } from './signature.js';

export interface KafkaSinkOptions {
  brokers: string[];
  topic: string;
  format: 'ocsf' | 'alertmanager';
  timeoutMs: number;
  productName: string;
  externalUrl: string;
  logger: KafkaLogger;
}

export class KafkaDestination implements Destination {
  private readonly kafka: Kafka;
  private producer: Producer | undefined;

  constructor(
    readonly name: string,
    private readonly opts: KafkaSinkOptions,
  ) {
    this.kafka = new Kafka({
      brokers: opts.brokers,
      clientId: 'chainsight-alerts',
      logLevel: logLevel.WARN,
      logCreator: kafkajsLogCreator(opts.logger),
      connectionTimeout: Math.min(opts.timeoutMs, 10_000),
      requestTimeout: opts.timeoutMs,
      // Few quick retries here: the dispatcher's backoff handles a broker down for minutes.
      retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2_000 },
    });
  }

  private async connected(): Promise<Producer> {
    if (this.producer) return this.producer;
    const p = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    try {
      await p.connect();
    } catch (err) {
      await p.disconnect().catch(() => undefined);
      throw err;
    }
    this.producer = p;
    return p;
  }

  value(entry: OutboxEntry): string {
    const c = entry.change;
    const { productName, externalUrl } = this.opts;
    return JSON.stringify(
      this.opts.format === 'ocsf' ? ocsfDetectionFinding(c, { productName, externalUrl, key: entry.key }) : alertmanagerPayload(c, { receiver: this.name, externalUrl }),
    );
  }

  async deliver(entry: OutboxEntry): Promise<void> {
    const producer = await this.connected();
    try {
      await producer.send({
        topic: this.opts.topic,
        acks: -1,
        timeout: this.opts.timeoutMs,
        messages: [{ key: entry.change.id, value: this.value(entry), headers: { [IDEMPOTENCY_HEADER]: entry.key, status: entry.change.status } }],
      });
    } catch (err) {
      // A fresh producer next time: kafkajs's may be stuck on a dead connection.
      this.producer = undefined;
      await producer.disconnect().catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    const p = this.producer;
    this.producer = undefined;
    await p?.disconnect();
  }
}
