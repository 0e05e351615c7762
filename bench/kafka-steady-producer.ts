/**
 * Forked by bench/kafka.ts for the steady-load scenario: a producer in its own
 * process (as the gateway Collector would be) sending one OTLP body at a fixed
 * rate, reporting each message's partition, offset and send time over IPC.
 */
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { CompressionTypes } from 'kafkajs';
import { withFreshIds } from './kafka-ids.js';
import { connectProducer, unpackBodies, useGzipLevel, type SteadyProducerEvent, type SteadyProducerJob } from './kafka-produce.js';

const send = (e: SteadyProducerEvent): void => void process.send!(e);

async function main(job: SteadyProducerJob): Promise<void> {
  useGzipLevel(1);
  const bodies = unpackBodies(readFileSync(job.bodiesFile));
  const producer = await connectProducer(job.brokers);
  send({ type: 'ready' });
  await once(process, 'message');

  const start = Date.now();
  const interval = 1000 / job.messagesPerSec;
  const pending = new Set<Promise<unknown>>();
  let acks: Array<[number, number, number]> = [];
  const flushAcks = setInterval(() => {
    if (acks.length > 0) send({ type: 'acks', acks });
    acks = [];
  }, 100);
  let messages = 0;
  let spans = 0;
  let maxInFlight = 0;
  for (let k = 0; ; k++) {
    const due = start + k * interval;
    if (due >= start + job.durationMs) break;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const copy = withFreshIds(bodies[k % bodies.length]!, job.saltBase + k);
    const partition = k % job.partitions;
    const sentAt = Date.now();
    const p = producer
      .send({ topic: job.topic, acks: -1, compression: CompressionTypes.GZIP, messages: [{ partition, value: copy.body }] })
      .then(([meta]) => {
        acks.push([partition, Number(meta?.baseOffset ?? meta?.offset ?? -1), sentAt]);
      });
    messages++;
    spans += copy.spans;
    pending.add(p);
    const done = (): void => void pending.delete(p);
    p.then(done, done);
    maxInFlight = Math.max(maxInFlight, pending.size);
  }
  await Promise.all(pending);
  const seconds = (Date.now() - start) / 1000;
  clearInterval(flushAcks);
  if (acks.length > 0) send({ type: 'acks', acks });
  send({ type: 'done', messages, spans, seconds, maxInFlight });
  await producer.disconnect();
  process.disconnect();
}

await main(JSON.parse(process.env.BENCH_STEADY_JOB ?? '{}') as SteadyProducerJob);
