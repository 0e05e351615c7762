/**
 * Flood: N concurrent OTLP exporters, each sending one 500-span request
 * (demo-shaped spans, ~1.25 MB of protobuf) at `chainsight serve` running in
 * a child process with an in-flight budget. Exporters behave as OTLP asks:
 * on 429/503 they wait Retry-After (plus jitter) and send again, until a
 * deadline. The child's resident memory is sampled throughout and its peak
 * (VmHWM) read at the end, beside its idle footprint with chdb open; then
 * every span answered 200 is looked for in the store through the query API.
 * The same flood against an unbounded receiver runs in the same process
 * tree for comparison, and a trickle with room for one request only
 * measures what the process needs to write at all. Loopback only, bounded in
 * count and time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeOtlp } from '../src/ingest/otlp/index.js';
import { resolveIngestLimits } from '../src/ingest/limits.js';
import { DEFAULT_EXPANSION, DEFAULT_MAX_INFLIGHT_BYTES } from '../src/ingest/admission.js';
import { makeWorkload } from './workload.js';
import { report } from './stats.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const SPANS_PER_REQUEST = 500;
const exporterCounts = (process.env.BENCH_FLOOD_EXPORTERS ?? '200,800').split(',').map(Number).filter((n) => n > 0);
const baselineExporters = Number(process.env.BENCH_FLOOD_BASELINE ?? 200);
const floorExporters = Number(process.env.BENCH_FLOOD_FLOOR ?? 50);
const budget = Number(process.env.BENCH_FLOOD_BUDGET ?? DEFAULT_MAX_INFLIGHT_BYTES);
const deadlineMs = Number(process.env.BENCH_FLOOD_DEADLINE_S ?? 240) * 1000;
/** A budget no flood reaches: the receiver as it was before admission control. */
const UNBOUNDED = Number.MAX_SAFE_INTEGER;

// --- requests: templates from the SDK, made distinct per exporter by rewriting trace ids ----
const w = await makeWorkload({ chains: 100, spansPerChain: 50, spansPerRequest: SPANS_PER_REQUEST });
const limits = resolveIngestLimits();
const templates = w.protobuf.map((body) => {
  const buf = Buffer.from(body);
  const offsets: number[] = [];
  for (const traceId of new Set(decodeOtlp(buf, 'protobuf', limits).spans.map((s) => s.traceId))) {
    const needle = Buffer.from(traceId, 'hex');
    for (let at = buf.indexOf(needle); at !== -1; at = buf.indexOf(needle, at + 1)) offsets.push(at);
  }
  return { buf, offsets };
});
const requestBytes = Math.max(...templates.map((t) => t.buf.length));

/** Exporter i's request: a template whose trace ids start with i, so every exporter's spans are distinct. */
function requestFor(i: number): Buffer {
  const t = templates[i % templates.length]!;
  const copy = Buffer.from(t.buf);
  for (const at of t.offsets) copy.writeUInt32BE(i + 1, at);
  return copy;
}

// --- the receiver child ------------------------------------------------------------------
interface Receiver {
  child: ChildProcess;
  otlp: URL;
  api: string;
  dataDir: string;
}

async function startReceiver(maxInflight: number): Promise<Receiver> {
  const dataDir = mkdtempSync(join(tmpdir(), 'chainsight-bench-flood-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--data', dataDir, '--trust-dir', w.trustDir, '--otlp-port', '0', '--api-port', '0'], {
    cwd: root,
    env: { ...process.env, CHAINSIGHT_LOG_LEVEL: 'info', CHAINSIGHT_MAX_INFLIGHT_BYTES: String(maxInflight), CLICKHOUSE_URL: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const urls = await new Promise<{ otlp: string; api: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`receiver did not start:\n${log.slice(-3000)}`)), 120_000);
    child.once('exit', (code) => reject(new Error(`receiver exited (${code}):\n${log.slice(-3000)}`)));
    child.stderr!.on('data', (c: Buffer) => {
      log = (log + c.toString('utf8')).slice(-100_000);
      for (const line of log.split('\n')) {
        if (!line.includes('chainsight serving')) continue;
        try {
          const rec = JSON.parse(line) as { otlp: string; api: string };
          clearTimeout(timer);
          resolve(rec);
        } catch {
          // partial line
        }
      }
    });
  });
  return { child, otlp: new URL(`${urls.otlp}/v1/traces`), api: urls.api, dataDir };
}

async function stopReceiver(r: Receiver): Promise<void> {
  if (r.child.exitCode === null) {
    r.child.kill('SIGTERM');
    const timer = setTimeout(() => r.child.kill('SIGKILL'), 30_000);
    await once(r.child, 'exit');
    clearTimeout(timer);
  }
  rmSync(r.dataDir, { recursive: true, force: true });
}

/** VmRSS and VmHWM (the kernel's peak) of a process, in bytes. */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

// --- one exporter -------------------------------------------------------------------------
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

/** Status 0 is no answer: `error` names the network error. */
function post(url: URL, body: Buffer): Promise<{ status: number; retryAfter: number; error?: string }> {
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, retryAfter: Number(res.headers['retry-after'] ?? 1) }));
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ status: 0, retryAfter: 1, error: err.code ?? err.message }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: 0, retryAfter: 1, error: err.code ?? err.message }));
    req.end(body);
  });
}

interface ExporterOutcome {
  ok: boolean;
  attempts: number;
  throttled: number;
  otherFailures: number;
  /** Answers other than 200 and 429, by status, or by network error when there was no answer. */
  other: Record<string, number>;
  msToOk: number;
}

/** Sends until 200, honouring Retry-After with up to 50 % jitter, as OTLP exporters do; gives up at the deadline or on a status exporters do not retry. */
async function exporter(url: URL, body: Buffer, until: number): Promise<ExporterOutcome> {
  const start = performance.now();
  const out: ExporterOutcome = { ok: false, attempts: 0, throttled: 0, otherFailures: 0, other: {}, msToOk: 0 };
  while (performance.now() < until) {
    out.attempts++;
    const { status, retryAfter, error } = await post(url, body);
    if (status === 200) {
      out.ok = true;
      out.msToOk = performance.now() - start;
      return out;
    }
    if (status === 429) out.throttled++;
    else {
      out.otherFailures++;
      const key = error ?? String(status);
      out.other[key] = (out.other[key] ?? 0) + 1;
      // What OTLP exporters retry: 429, 502, 503, 504 and network errors (0 here); the rest is dropped.
      if (![0, 502, 503, 504].includes(status)) return out;
    }
    const waitMs = Math.max(retryAfter, 0.1) * 1000 * (1 + Math.random() * 0.5);
    await new Promise((r) => setTimeout(r, waitMs));
  }
  return out;
}

async function storedActions(api: string): Promise<number> {
  const { tasks } = (await (await fetch(`${api}/api/tasks?limit=1000`)).json()) as { tasks: Array<{ actions: number }> };
  return tasks.reduce((s, t) => s + Number(t.actions), 0);
}

async function inflightGauge(api: string): Promise<number> {
  const text = await (await fetch(`${api}/metrics`)).text();
  return Number(/^chainsight_otlp_inflight_bytes (\S+)/m.exec(text)?.[1] ?? 0);
}

// --- a round ------------------------------------------------------------------------------
async function round(exporters: number, maxInflight: number) {
  const r = await startReceiver(maxInflight);
  try {
    // Warm the engine (first INSERT, first query) before measuring the idle footprint.
    const warm = await post(r.otlp, requestFor(1_000_000));
    if (warm.status !== 200) throw new Error(`warm-up request answered ${warm.status}`);
    await storedActions(r.api);
    await new Promise((res) => setTimeout(res, 1000));
    const idle = memoryOf(r.child.pid!);

    const bodies = Array.from({ length: exporters }, (_, i) => requestFor(i));
    let maxRss = idle.rss;
    let maxInflightSeen = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        maxRss = Math.max(maxRss, memoryOf(r.child.pid!).rss);
        if (maxInflight !== UNBOUNDED) maxInflightSeen = Math.max(maxInflightSeen, await inflightGauge(r.api).catch(() => 0));
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    const start = performance.now();
    const outcomes = await Promise.all(bodies.map((b) => exporter(r.otlp, b, start + deadlineMs)));
    const seconds = (performance.now() - start) / 1000;
    sampling = false;
    await sampler;
    const peak = memoryOf(r.child.pid!);

    const ok = outcomes.filter((o) => o.ok);
    const stored = (await storedActions(r.api)) - SPANS_PER_REQUEST; // minus the warm-up request
    const msToOk = ok.map((o) => o.msToOk).sort((a, b) => a - b);
    return {
      exporters,
      budget: maxInflight === UNBOUNDED ? 0 : maxInflight,
      idle_rss: idle.rss,
      max_rss_sampled: Math.max(maxRss, peak.rss),
      peak_rss: peak.hwm,
      over_idle: peak.hwm - idle.rss,
      over_idle_per_budget: maxInflight === UNBOUNDED ? 0 : (peak.hwm - idle.rss) / maxInflight,
      max_inflight_accounted: maxInflightSeen,
      requests_ok: ok.length,
      requests_given_up: exporters - ok.length,
      attempts: outcomes.reduce((s, o) => s + o.attempts, 0),
      answered_429: outcomes.reduce((s, o) => s + o.throttled, 0),
      answered_other: outcomes.reduce((s, o) => s + o.otherFailures, 0),
      answered_other_by_status: outcomes.reduce<Record<string, number>>((acc, o) => {
        for (const [k, v] of Object.entries(o.other)) acc[k] = (acc[k] ?? 0) + v;
        return acc;
      }, {}),
      spans_ok: ok.length * SPANS_PER_REQUEST,
      spans_stored: stored,
      seconds,
      spans_per_sec: (ok.length * SPANS_PER_REQUEST) / seconds,
      last_ok_ms: msToOk.at(-1) ?? 0,
      median_ok_ms: msToOk[Math.floor(msToOk.length / 2)] ?? 0,
    };
  } finally {
    await stopReceiver(r);
  }
}

const accountedPerRequest = requestBytes * (1 + DEFAULT_EXPANSION);
// One request in flight at a time: what the process needs to write at all
// (the engine inserting and merging, the runtime) beyond its idle footprint.
const floor = floorExporters > 0 ? await round(floorExporters, accountedPerRequest) : undefined;
const rounds = [];
let baseline: Awaited<ReturnType<typeof round>> | undefined;
for (const n of exporterCounts) {
  rounds.push(await round(n, budget));
  // Right after the budgeted round of the same size, so the two meet the same machine.
  if (n === baselineExporters) baseline = await round(baselineExporters, UNBOUNDED);
}
if (baselineExporters > 0 && !baseline) baseline = await round(baselineExporters, UNBOUNDED);
agent.destroy();
rmSync(w.trustDir, { recursive: true, force: true });

const result: Record<string, unknown> = {
  request_bytes: requestBytes,
  spans_per_request: SPANS_PER_REQUEST,
  accounted_bytes_per_request: accountedPerRequest,
  expansion: DEFAULT_EXPANSION,
  budget,
  floor,
  rounds,
  baseline,
  lost_spans: [...rounds, ...(floor ? [floor] : []), ...(baseline ? [baseline] : [])].reduce((s, r) => s + Math.max(0, r.spans_ok - r.spans_stored), 0),
};
report(result);
