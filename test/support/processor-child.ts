/**
 * Test helper: `chainsight consume` as a child process (a processor instance
 * the test can SIGKILL and restart), its Prometheus metrics, and a
 * short-lived reader child that dumps one embedded store. chdb locks its data
 * directory per process, so a store written by a child can only be read from
 * another process once that child is gone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const mainTs = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const readerTs = fileURLToPath(new URL('./store-reader-child.ts', import.meta.url));

/** Sum of a metric's samples in Prometheus text exposition, optionally only those whose labels include `labels`. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const labelText = m[2] ?? '';
    if (!Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) continue;
    sum += Number(m[3]);
  }
  return sum;
}

export interface ProcessorChild {
  readonly name: string;
  readonly pid: number;
  /** Base URL of the child's /metrics and /healthz, known once it logged 'consumer started'. */
  readonly apiUrl: string;
  /** Its stderr (pino JSON lines), tail only. */
  logs(): string;
  alive(): boolean;
  /** The child's /metrics text. */
  metrics(): Promise<string>;
  /** SIGKILL, resolved when the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM (clean stop: leave the group, flush, close the store); SIGKILL after graceMs. Resolves to the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

const live = new Set<ChildProcess>();
// A test process that dies must not leave processors behind.
process.once('exit', () => {
  for (const c of live) if (!exited(c)) c.kill('SIGKILL');
});

/**
 * Starts `node --import tsx src/cli/main.ts consume` with `env` over the
 * test's environment and waits until it logged 'consumer started' (store
 * migrated, group joined or joining, API listening).
 */
export async function startProcessorChild(name: string, env: Record<string, string>, startTimeoutMs = 60_000): Promise<ProcessorChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', mainTs, 'consume'], {
    cwd: repoRoot,
    env: { ...process.env, CHAINSIGHT_API_PORT: '0', CHAINSIGHT_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let output = '';
  let apiUrl = '';
  let ready: (() => void) | undefined;
  const started = new Promise<void>((resolve) => (ready = resolve));
  let partial = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output += text;
    if (output.length > 400_000) output = output.slice(-200_000);
    if (apiUrl) return;
    partial += text;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.includes('consumer started')) continue;
      try {
        const rec = JSON.parse(line) as { api?: string };
        if (rec.api) {
          apiUrl = rec.api;
          ready?.();
        }
      } catch {
        // not a JSON log line
      }
    }
  });
  const exit = once(child, 'exit');
  const timer = new Promise<never>((_, reject) => {
    const t = setTimeout(() => reject(new Error(`${name} did not start within ${startTimeoutMs} ms:\n${output.slice(-4000)}`)), startTimeoutMs);
    void started.then(() => clearTimeout(t));
    void exit.then(() => {
      clearTimeout(t);
      reject(new Error(`${name} exited (code ${child.exitCode}, signal ${child.signalCode}) before it started:\n${output.slice(-4000)}`));
    });
  });
  try {
    await Promise.race([started, timer]);
  } catch (err) {
    if (!exited(child)) child.kill('SIGKILL');
    throw err;
  }

  return {
    name,
    pid: child.pid ?? -1,
    apiUrl,
    logs: () => output,
    alive: () => !exited(child),
    async metrics() {
      const res = await fetch(`${apiUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
      return res.text();
    },
    async kill() {
      if (exited(child)) return;
      child.kill('SIGKILL');
      await exit;
    },
    async stop(graceMs = 20_000) {
      if (!exited(child)) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exit;
        clearTimeout(timer);
      }
      return child.exitCode;
    },
  };
}

/** One stored action as the reader child prints it. */
export interface StoredAction {
  trace_id: string;
  span_id: string;
  task_id: string;
  verdict: string;
}

export interface StoreDump {
  /** What Queries.taskActions returned for each task asked about (deduplicated by the query). */
  actions: StoredAction[];
  /** Rows physically in the actions table (redeliveries not yet merged away included). */
  rawRows: number;
  /** Queries.countActions. */
  countActions: number;
}

/**
 * Reads an embedded store from a fresh process (the writer must be gone: chdb
 * locks the directory). Prints nothing but the dump on stdout.
 */
export async function readStoreInChild(dataDir: string, database: string, taskIds: string[], timeoutMs = 60_000): Promise<StoreDump> {
  const child = spawn(process.execPath, ['--import', 'tsx', readerTs, dataDir, database, ...taskIds], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  if (code !== 0) throw new Error(`store reader for ${dataDir} exited ${code}:\n${err.slice(-4000)}`);
  return JSON.parse(out) as StoreDump;
}
