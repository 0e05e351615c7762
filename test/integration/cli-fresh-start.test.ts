/**
 * A fresh install as a newcomer runs it: the compiled CLI (bin/ → dist/),
 * `serve` on a data directory that does not exist yet. It must start, say how
 * to add a trust bundle, answer OTLP, pick up a bundle made with the command
 * it suggested on SIGHUP, and stop cleanly.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { agentSpanAttributes } from '../../src/sdk/telemetry.js';
import { recordSpans, serializeSpans } from '../support/otel.js';

const REPO = resolve(import.meta.dirname, '../..');
const CLI = join(REPO, 'bin', 'chainsight.js');

/** Newest modification time under a directory (the sources the build would compile). */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** dist/ as `npm install` leaves it: rebuilt when a source is newer. */
function ensureBuilt(): void {
  const main = join(REPO, 'dist', 'cli', 'main.js');
  if (existsSync(main) && statSync(main).mtimeMs >= newest(join(REPO, 'src'))) return;
  execFileSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(REPO, 'tsconfig.json')], { stdio: 'inherit' });
}

interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

let root: string;
let child: ChildProcess | undefined;
const lines: LogLine[] = [];
const waiters: Array<() => void> = [];

function logged(pred: (l: LogLine) => boolean, ms = 60_000): Promise<LogLine> {
  return new Promise((resolveLine, reject) => {
    const check = () => {
      const hit = lines.find(pred);
      if (hit) {
        clearTimeout(timer);
        resolveLine(hit);
        return true;
      }
      return false;
    };
    const timer = setTimeout(() => reject(new Error(`log line not seen; got:\n${lines.map((l) => l.msg).join('\n')}`)), ms);
    if (!check()) waiters.push(function again() {
      if (!check()) waiters.push(again);
    });
  });
}

before(() => {
  ensureBuilt();
});

after(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  if (root) await rm(root, { recursive: true, force: true });
});

test('serve on an empty data directory starts, answers OTLP, and loads a bundle on SIGHUP', async () => {
  root = await mkdtemp(join(tmpdir(), 'chainsight-fresh-'));
  const data = join(root, 'data');
  const trustDir = join(data, 'trust');
  const env: NodeJS.ProcessEnv = { ...process.env, CHAINSIGHT_LOG_LEVEL: 'info' };
  delete env.CLICKHOUSE_URL;
  child = spawn(process.execPath, [CLI, 'serve', '--data', data, '--otlp-port', '0', '--api-port', '0'], { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
  createInterface({ input: child.stderr! }).on('line', (text) => {
    try {
      lines.push(JSON.parse(text) as LogLine);
    } catch {
      lines.push({ level: 60, msg: text });
    }
    for (const w of waiters.splice(0)) w();
  });

  const serving = await logged((l) => l.msg === 'chainsight serving');
  const otlp = serving.otlp as string;
  const api = serving.api as string;
  const hint = await logged((l) => l.msg.startsWith('no trusted keys'));
  assert.match(hint.msg, /signature\.unknown_trust_domain/);
  assert.ok(hint.msg.includes(`${trustDir}/<trust-domain>.jwks.json`), hint.msg);
  assert.match(hint.msg, /npx chainsight token keygen --domain \S+ --authorization --dir /);
  assert.ok(statSync(trustDir).isDirectory());

  const spans = await recordSpans({ 'service.name': 'newcomer' }, (tracer) => {
    tracer.startSpan('execute_tool hello', { attributes: agentSpanAttributes({ chain: ['a.b.c'], taskId: 'task-fresh', agentId: 'spiffe://co.com/agent/a', agentName: 'a', operation: 'execute_tool', toolName: 'hello', scopesUsed: ['x:y'] }) }).end();
  });
  const res = await fetch(`${otlp}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: serializeSpans(spans, 'protobuf') });
  assert.equal(res.status, 200);
  const stored = (await (await fetch(`${api}/api/tasks/task-fresh/actions`)).json()) as { actions: Array<{ verdict: string }> };
  assert.deepEqual(stored.actions.map((a) => a.verdict), ['failed']);

  // The command the hint names, then SIGHUP: the process reloads instead of dying.
  execFileSync(process.execPath, [CLI, 'token', 'keygen', '--domain', 'co.com', '--authorization', '--dir', trustDir], { cwd: root });
  child.kill('SIGHUP');
  const reloaded = await logged((l) => l.msg.startsWith('trust bundles reloaded') && l.trigger === 'signal');
  assert.deepEqual(reloaded.keys, { 'co.com': 1 });
  const metrics = await (await fetch(`${api}/metrics`)).text();
  assert.match(metrics, /chainsight_trust_keys\{trust_domain="co\.com"\} 1/);

  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0);
});
