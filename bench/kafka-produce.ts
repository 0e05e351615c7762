/**
 * Producing OTLP export bodies the way the gateway Collector does
 * (collectors/gateway.yaml: otlp_proto, gzip level 1, acks -1), with a
 * counter of bytes before and after compression.
 */
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import kafkajs, { CompressionTypes, Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { withFreshIds } from './kafka-ids.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export const gzipBytes = { raw: 0, compressed: 0 };

/**
 * kafkajs's built-in gzip codec uses zlib's default level (6); the gateway
 * sends level 1. Replaces the codec process-wide: decompression is the same
 * zlib inflate kafkajs would use, so a consumer in this process is unaffected.
 */
export function useGzipLevel(level: number): void {
  // A default import: the CommonJS export analysis does not see CompressionCodecs as a named export.
  kafkajs.CompressionCodecs[CompressionTypes.GZIP] = () => ({
    async compress(encoder: { buffer: Buffer }) {
      const out = await gzipAsync(encoder.buffer, { level });
      gzipBytes.raw += encoder.buffer.length;
      gzipBytes.compressed += out.length;
      return out;
    },
    decompress: (buffer: Buffer) => gunzipAsync(buffer),
  });
}

export async function connectProducer(brokers: string[]): Promise<Producer> {
  const kafka = new Kafka({ brokers, clientId: 'chainsight-bench-producer', logLevel: logLevel.ERROR });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  return producer;
}

/**
 * Sends `count` messages cycling through `bodies`, message i with ids salted
 * by `saltBase + i` and on partition i % partitions. Each request carries one
 * message per partition (a gzip'd 500-span body is ~100–200 kB, so a record
 * batch stays under the broker's 1 MB message.max.bytes); `inFlight`
 * requests overlap.
 */
export async function produceBacklog(
  producer: Producer,
  topic: string,
  bodies: Uint8Array[],
  opts: { count: number; partitions: number; saltBase: number; inFlight?: number },
): Promise<{ spans: number; seconds: number }> {
  const start = performance.now();
  let spans = 0;
  const pending = new Set<Promise<unknown>>();
  for (let i = 0; i < opts.count; i += opts.partitions) {
    const messages = [];
    for (let k = i; k < Math.min(i + opts.partitions, opts.count); k++) {
      const copy = withFreshIds(bodies[k % bodies.length]!, opts.saltBase + k);
      spans += copy.spans;
      messages.push({ partition: k % opts.partitions, value: copy.body });
    }
    const p = producer.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages });
    pending.add(p);
    const done = (): void => void pending.delete(p);
    p.then(done, done);
    if (pending.size >= (opts.inFlight ?? 4)) await Promise.race(pending);
  }
  await Promise.all(pending);
  return { spans, seconds: (performance.now() - start) / 1000 };
}

// --- the steady-load producer child (bench/kafka-steady-producer.ts) ---------------------

export interface SteadyProducerJob {
  brokers: string[];
  topic: string;
  bodiesFile: string;
  messagesPerSec: number;
  durationMs: number;
  partitions: number;
  saltBase: number;
}

export type SteadyProducerEvent =
  | { type: 'ready' }
  | { type: 'acks'; acks: Array<[partition: number, offset: number, sentAt: number]> }
  | { type: 'done'; messages: number; spans: number; seconds: number; maxInFlight: number };

/** Length-prefixed bodies, the format bench/kafka.ts writes for this child. */
export function packBodies(bodies: Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  for (const b of bodies) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    parts.push(len, Buffer.from(b));
  }
  return Buffer.concat(parts);
}

export function unpackBodies(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let pos = 0; pos < buf.length; ) {
    const len = buf.readUInt32BE(pos);
    out.push(buf.subarray(pos + 4, pos + 4 + len));
    pos += 4 + len;
  }
  return out;
}
