// Test helper: run a real otelcol-chainsight gateway (collectors/gateway.yaml)
// in front of a Kafka broker, on loopback ports of the caller's choosing.
// The binary is built by scripts/build-collector.sh on first use (minutes,
// once per manifest) and reused from its cache afterwards.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const host = '127.0.0.1';

export interface CollectorOptions {
  /** host:port list of the Kafka cluster the gateway exports to. */
  kafkaBrokers: string | readonly string[];
  /** Traces topic (gateway default otlp_spans). It must exist unless the broker auto-creates topics. */
  topic?: string;
  /** Ports on 127.0.0.1; omitted or 0 picks a free one. */
  httpPort?: number;
  grpcPort?: number;
  healthPort?: number;
  metricsPort?: number;
  /** Config file; default collectors/gateway.yaml. */
  configPath?: string;
  /** Further config files merged over it, in order (e.g. collectors/gateway-bearer.yaml). */
  overlays?: readonly string[];
  /**
   * Directory of the persistent sending queue (COLLECTOR_QUEUE_DIR). Pass the
   * same directory to a restarted collector to have it resume the queue;
   * omitted, a fresh temporary directory, removed by stop() or when the test process exits.
   */
  queueDir?: string;
  /** Extra environment for the collector (e.g. KAFKA_QUEUE_BYTES). */
  env?: Record<string, string>;
  /** Time allowed for the health check once the binary exists (default 30 s). */
  startTimeoutMs?: number;
}

/** How the process ended: a clean shutdown is code 0 and no signal. */
export interface CollectorExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningCollector {
  /** OTLP/HTTP base URL, e.g. http://127.0.0.1:43181 (traces go to `${endpoint}/v1/traces`). */
  readonly endpoint: string;
  readonly tracesUrl: string;
  /** OTLP/gRPC host:port. */
  readonly grpcEndpoint: string;
  readonly healthUrl: string;
  /** The collector's own Prometheus metrics (exporter queue size, sent/failed spans). */
  readonly metricsUrl: string;
  readonly pid: number;
  readonly queueDir: string;
  /** Everything the collector wrote to stdout/stderr so far. */
  logs(): string;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs` (default 10 s). Idempotent. Resolves to how it ended. */
  stop(graceMs?: number): Promise<CollectorExit>;
  /** SIGKILL: a crash, with no chance to drain or flush anything. Resolves once the process is gone. */
  kill(): Promise<void>;
}

/** Build (or find cached) otelcol-chainsight and return its path. */
export async function collectorBinary(): Promise<string> {
  const { stdout } = await execFileAsync('bash', [resolve(repoRoot, 'scripts/build-collector.sh')], {
    cwd: repoRoot,
    maxBuffer: 16 * 1024 * 1024,
    timeout: 30 * 60 * 1000,
  });
  const path = stdout.trim().split('\n').pop();
  if (!path) throw new Error('build-collector.sh printed no binary path');
  return path;
}

/**
 * Builds (or finds) the Collector; resolves to why it cannot be built on this
 * machine (for `t.skip`), or undefined. Any other build failure throws.
 */
export async function collectorUnavailable(): Promise<string | undefined> {
  try {
    await collectorBinary();
    return undefined;
  } catch (err) {
    if (/go is not on PATH/.test(String(err))) return 'go not found: the Collector cannot be built';
    throw err;
  }
}

/** POSTs one OTLP/protobuf export and returns the HTTP status, the body read and discarded. */
export async function postOtlpProto(tracesUrl: string, body: Buffer, timeoutMs = 60_000): Promise<number> {
  const res = await fetch(tracesUrl, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body, signal: AbortSignal.timeout(timeoutMs) });
  await res.arrayBuffer();
  return res.status;
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, host);
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port assigned');
  return address.port;
}

async function pickPort(requested: number | undefined): Promise<number> {
  return requested && requested > 0 ? requested : freePort();
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function waitHealthy(healthUrl: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited(child)) {
      throw new Error(`collector exited (code ${child.exitCode}, signal ${child.signalCode}) before it was healthy:\n${output()}`);
    }
    try {
      const res = await fetch(healthUrl, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`collector health check ${healthUrl} not ready after ${timeoutMs} ms:\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts a gateway. Ports it picks itself were free a moment before the
 * Collector binds them, and another process may take one in between: such a
 * start is retried on fresh ports (ports the caller chose are not).
 */
export async function startCollector(options: CollectorOptions): Promise<RunningCollector> {
  const picked = !(options.httpPort && options.grpcPort && options.healthPort && options.metricsPort);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startCollectorOnce(options);
    } catch (err) {
      if (!picked || attempt === 3 || !/address already in use/.test((err as Error).message)) throw err;
    }
  }
}

async function startCollectorOnce(options: CollectorOptions): Promise<RunningCollector> {
  const brokers = typeof options.kafkaBrokers === 'string' ? options.kafkaBrokers : options.kafkaBrokers.join(',');
  if (brokers.trim() === '') throw new Error('startCollector: kafkaBrokers is empty');
  const binary = await collectorBinary();
  const [httpPort, grpcPort, healthPort, metricsPort] = [
    await pickPort(options.httpPort),
    await pickPort(options.grpcPort),
    await pickPort(options.healthPort),
    await pickPort(options.metricsPort),
  ];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.env,
    KAFKA_BROKERS: brokers,
    OTLP_HTTP_ENDPOINT: `${host}:${httpPort}`,
    OTLP_GRPC_ENDPOINT: `${host}:${grpcPort}`,
    HEALTH_CHECK_ENDPOINT: `${host}:${healthPort}`,
    TELEMETRY_HOST: host,
    TELEMETRY_PORT: String(metricsPort),
  };
  if (options.topic !== undefined) env.KAFKA_TRACES_TOPIC = options.topic;
  const configPath = options.configPath ?? resolve(repoRoot, 'collectors/gateway.yaml');
  const ownQueueDir = options.queueDir === undefined ? mkdtempSync(resolve(tmpdir(), 'chainsight-collector-queue-')) : undefined;
  const queueDir = options.queueDir ?? ownQueueDir!;
  env.COLLECTOR_QUEUE_DIR = queueDir;
  const removeOwnQueue = (): void => {
    if (ownQueueDir) rmSync(ownQueueDir, { recursive: true, force: true });
  };
  // kill() leaves the queue for a restart on collector.queueDir; the temporary one goes when the test process ends.
  if (ownQueueDir) process.once('exit', removeOwnQueue);

  const configArgs = [configPath, ...(options.overlays ?? [])].flatMap((c) => ['--config', c]);
  const child = spawn(binary, configArgs, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const append = (chunk: Buffer): void => {
    output += chunk.toString('utf8');
    // Keep the tail only: a collector retrying against a dead broker logs a lot.
    if (output.length > 1_000_000) output = output.slice(-500_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  // Never leave a gateway behind when the test process ends abruptly.
  const killOnExit = (): void => {
    if (!exited(child)) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const exit = (): CollectorExit => ({ code: child.exitCode, signal: child.signalCode });
  const stop = async (graceMs = 10_000): Promise<CollectorExit> => {
    process.removeListener('exit', killOnExit);
    if (exited(child)) {
      removeOwnQueue();
      return exit();
    }
    const done = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (!exited(child)) child.kill('SIGKILL');
    }, graceMs);
    try {
      await done;
    } finally {
      clearTimeout(timer);
      removeOwnQueue();
    }
    return exit();
  };
  const kill = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    if (exited(child)) return;
    const done = once(child, 'exit');
    child.kill('SIGKILL');
    await done;
  };

  const healthUrl = `http://${host}:${healthPort}/`;
  try {
    await waitHealthy(healthUrl, child, () => output, options.startTimeoutMs ?? 30_000);
  } catch (err) {
    await stop(2_000);
    throw err;
  }

  const endpoint = `http://${host}:${httpPort}`;
  return {
    endpoint,
    tracesUrl: `${endpoint}/v1/traces`,
    grpcEndpoint: `${host}:${grpcPort}`,
    healthUrl,
    metricsUrl: `http://${host}:${metricsPort}/metrics`,
    pid: child.pid ?? -1,
    queueDir,
    logs: () => output,
    stop,
    kill,
  };
}
