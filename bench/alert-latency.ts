/**
 * Alert latency end to end on the embedded deployment: a span POSTed over
 * OTLP/HTTP (protobuf) to the real receiver → the alert stored (the receiver
 * answers only once every row of the batch, the alert's included, is
 * acknowledged by the store) → the alert's notification received by a real
 * local HTTP receiver through the webhook sink (when the delivery section is
 * registered). Streaming: a chain presented by an agent that is not its
 * delegatee (integrity.not_delegatee), one distinct alert per sample.
 * Windowed: a burst of failed verifications (integrity.verification_burst,
 * evaluated every second), polled for in the store every 10 ms.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { stringify } from 'yaml';
import { loadConfig } from '../src/config/config.js';
import { DETECTION_MODULES } from '../src/detect/registry.js';
import { createLogger } from '../src/runtime/logger.js';
import { startServer } from '../src/runtime/server.js';
import { generateKey } from '../src/sdk/keys.js';
import { mintChild, mintRoot } from '../src/sdk/mint.js';
import { agentSpanAttributes } from '../src/sdk/telemetry.js';
import { percentile, report } from './stats.js';

const TD = 'latency.example';
const STREAMING_SAMPLES = 200;
const WINDOWED_SAMPLES = 20;
const BURST_INTERVAL_SEC = 1;
const SECRET_ENV = 'CHAINSIGHT_BENCH_WEBHOOK_SECRET';

/** A local webhook receiver: when each body arrived, searchable by what it contains. */
async function startReceiver(): Promise<{ url: string; arrivals: Array<{ at: number; body: string }>; close(): Promise<void> }> {
  const arrivals: Array<{ at: number; body: string }> = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      arrivals.push({ at: performance.now(), body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/alerts`, arrivals, close: () => new Promise((r) => server.close(() => r())) };
}

const dir = await mkdtemp(join(tmpdir(), 'chainsight-latency-'));
const receiver = await startReceiver();
try {
  const trustDir = join(dir, 'trust');
  const authz = (await generateKey({ dir: trustDir, trustDomain: TD, authorization: true })).signingKey;
  const planner = (await generateKey({ dir: trustDir, trustDomain: TD, principal: `spiffe://${TD}/agent/planning/p-0` })).signingKey;
  const sections: Record<string, unknown> = {
    integrity: { burst: { interval_sec: BURST_INTERVAL_SEC, window_sec: 10, min_failures: 5 } },
    delivery: { poll_interval_ms: 50, destinations: [{ type: 'webhook', name: 'bench', url: receiver.url, secret_env: SECRET_ENV }] },
  };
  const detectionFile = join(dir, 'detection.yaml');
  await writeFile(detectionFile, stringify(Object.fromEntries(Object.entries(sections).filter(([k]) => k in DETECTION_MODULES))));
  const delivering = 'delivery' in DETECTION_MODULES;
  const config = loadConfig({ CHAINSIGHT_DETECTION: detectionFile, [SECRET_ENV]: 'bench-secret-of-enough-length-0123456789' }, { data: join(dir, 'data'), trustDir, apiPort: 0, otlpPort: 0 }, { logLevel: 'warn' });
  const server = await startServer(config, createLogger('warn'));
  try {
    const now = Date.now();
    const root = await mintRoot({ authzKey: authz, human: 'alice@latency.example', agent: planner.principal!, scope: ['cloud:read'], task: 'task-latency', ttlSec: 3600, now: now - 60_000 });
    const stale = await mintRoot({ authzKey: authz, human: 'alice@latency.example', agent: planner.principal!, scope: ['cloud:read'], task: 'task-latency', ttlSec: 3600, now: now - 3 * 3600_000 });
    const worker = (k: number) => `spiffe://${TD}/agent/inventory/w-${k}`;
    const chainOf = await mintChild({ parentChain: root, signerKey: planner, delegatee: worker(0), scope: ['cloud:read'], ttlSec: 1800, now: now - 50_000 });

    /** One OTLP protobuf body of `n` spans by `agent` presenting `chain`. */
    const body = (agent: string, chain: string[], n: number) => {
      const exporter = new InMemorySpanExporter();
      const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'bench-agent' }), spanProcessors: [new SimpleSpanProcessor(exporter)] });
      const tracer = provider.getTracer('bench');
      for (let i = 0; i < n; i++) {
        const attributes = agentSpanAttributes({ chain, taskId: 'task-latency', agentId: agent, agentName: 'inventory', operation: 'execute_tool', toolName: 'describe', scopesUsed: ['cloud:read'], resource: `vm-${i}` });
        tracer.startSpan('execute_tool describe', { kind: SpanKind.CLIENT, attributes }).end();
      }
      return ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans())!;
    };
    const post = async (b: Uint8Array) => {
      const res = await fetch(`${server.otlpUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: b });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`OTLP POST answered ${res.status}`);
    };
    const delivered = async (needle: string, from: number, timeoutMs = 10_000): Promise<number> => {
      const until = performance.now() + timeoutMs;
      for (;;) {
        const hit = receiver.arrivals.find((a) => a.at >= from && a.body.includes(needle));
        if (hit) return hit.at;
        if (performance.now() > until) throw new Error(`no notification naming ${needle} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 2));
      }
    };
    const alerts = server.pipeline.alerts;

    // Streaming: agent w-k presents w-0's chain; each sample a new alert.
    await post(body(worker(100_000), chainOf, 1)); // warm-up
    const streamStored: number[] = [];
    const streamDelivered: number[] = [];
    for (let k = 1; k <= STREAMING_SAMPLES; k++) {
      const b = body(worker(k), chainOf, 1);
      const t0 = performance.now();
      await post(b);
      streamStored.push(performance.now() - t0);
      if (delivering) streamDelivered.push((await delivered(worker(k), t0)) - t0);
    }
    const check = await alerts.list({ kind: 'integrity.not_delegatee', agent: worker(STREAMING_SAMPLES) });
    if (check.items.length !== 1) throw new Error(`expected the last sample's alert in the store, found ${check.items.length}`);

    // Windowed: five spans with a long-expired chain from a fresh agent; poll the store until the burst alert is there.
    const windowStored: number[] = [];
    const windowDelivered: number[] = [];
    for (let k = 1; k <= WINDOWED_SAMPLES; k++) {
      const agent = `spiffe://${TD}/agent/retrier/r-${k}`;
      const b = body(agent, stale, 5);
      const t0 = performance.now();
      await post(b);
      for (;;) {
        const page = await alerts.list({ kind: 'integrity.verification_burst', agent, limit: 1 });
        if (page.items.length > 0) break;
        if (performance.now() - t0 > 30_000) throw new Error(`no burst alert for ${agent} within 30 s`);
        await new Promise((r) => setTimeout(r, 10));
      }
      windowStored.push(performance.now() - t0);
      if (delivering) windowDelivered.push((await delivered(agent, t0)) - t0);
    }
    const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
    const [ss, sd, ws, wd] = [streamStored, streamDelivered, windowStored, windowDelivered].map(sorted) as [number[], number[], number[], number[]];
    report({
      streaming_samples: STREAMING_SAMPLES,
      streaming_stored_ms_p50: percentile(ss, 50),
      streaming_stored_ms_p99: percentile(ss, 99),
      ...(delivering ? { streaming_delivered_ms_p50: percentile(sd, 50), streaming_delivered_ms_p99: percentile(sd, 99) } : {}),
      windowed_samples: WINDOWED_SAMPLES,
      windowed_interval_ms: BURST_INTERVAL_SEC * 1000,
      windowed_stored_ms_p50: percentile(ws, 50),
      windowed_stored_ms_p99: percentile(ws, 99),
      ...(delivering ? { windowed_delivered_ms_p50: percentile(wd, 50), windowed_delivered_ms_p99: percentile(wd, 99) } : {}),
    });
  } finally {
    await server.stop();
  }
} finally {
  await receiver.close();
  await rm(dir, { recursive: true, force: true });
}
