/**
 * A fresh install as a newcomer runs it: the compiled CLI (bin/ → dist/) on a
 * data directory that does not exist yet. `serve` must start, say how to add
 * a trust bundle, answer OTLP, pick up a bundle made with the command it
 * suggested on SIGHUP, and stop cleanly; `consume` must prepare the same
 * directories and say the same before it reaches for Kafka.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentSpanAttributes } from '../../src/sdk/telemetry.js';
import { CLI, ensureBuilt, spawnCli, type RunningCli } from '../support/cli.js';
import { recordSpans, serializeSpans } from '../support/otel.js';

let root: string;
const running: RunningCli[] = [];

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, CHAINSIGHT_LOG_LEVEL: 'info', ...extra };
  delete e.CLICKHOUSE_URL;
  return e;
}

before(async () => {
  ensureBuilt();
  root = await mkdtemp(join(tmpdir(), 'chainsight-fresh-'));
});

after(async () => {
  for (const r of running) r.kill();
  await rm(root, { recursive: true, force: true });
});

test('serve on an empty data directory starts, answers OTLP, and loads a bundle on SIGHUP', async () => {
  const data = join(root, 'serve', 'data');
  const trustDir = join(data, 'trust');
  const cli = spawnCli(['serve', '--data', data, '--otlp-port', '0', '--api-port', '0'], { cwd: root, env: env() });
  running.push(cli);

  const serving = await cli.logged((l) => l.msg === 'chainsight serving');
  const otlp = serving.otlp as string;
  const api = serving.api as string;
  const hint = await cli.logged((l) => l.msg.startsWith('no trusted keys'));
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
  execFileSync(process.execPath, [CLI, 'token', 'keygen', '--domain', 'co.com', '--authorization', '--dir', trustDir, '--private-dir', join(root, 'keys')], { cwd: root });
  cli.child.kill('SIGHUP');
  const reloaded = await cli.logged((l) => l.msg.startsWith('trust bundles reloaded') && l.trigger === 'signal');
  assert.deepEqual(reloaded.keys, { 'co.com': 1 });
  const metrics = await (await fetch(`${api}/metrics`)).text();
  assert.match(metrics, /chainsight_trust_keys\{trust_domain="co\.com"\} 1/);

  cli.child.kill('SIGTERM');
  const [code] = (await once(cli.child, 'exit')) as [number | null];
  assert.equal(code, 0);
});

test('consume on an empty data directory prepares it and says how to add a bundle before it needs Kafka', async () => {
  const data = join(root, 'consume', 'data');
  // Nothing listens on port 1: the member gets as far as Kafka, then gives up.
  const cli = spawnCli(['consume', '--data', data, '--api-port', '0'], { cwd: root, env: env({ KAFKA_BROKERS: '127.0.0.1:1' }) });
  running.push(cli);
  const hint = await cli.logged((l) => l.msg.startsWith('no trusted keys'));
  assert.ok(hint.msg.includes(join(data, 'trust')));
  assert.ok(statSync(join(data, 'trust')).isDirectory());
  assert.ok(!cli.lines.some((l) => /ENOENT/.test(l.msg)));
  cli.kill();
});
