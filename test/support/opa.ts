/**
 * Test helper: a real OPA server built by scripts/build-opa.sh, started on
 * loopback with policies/chainsight.rego. `opaBinary()` returns undefined
 * (with the reason) when no binary can be built, so tests can skip saying why.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export function opaBinary(): { path?: string; why?: string } {
  if (process.env.OPA_BIN) return { path: process.env.OPA_BIN };
  const r = spawnSync('bash', ['scripts/build-opa.sh'], { cwd: root, encoding: 'utf8', timeout: 15 * 60_000 });
  const path = r.stdout.trim().split('\n').pop();
  if (r.status === 0 && path) return { path };
  return { why: `scripts/build-opa.sh failed (${r.status}): ${r.stderr.slice(-500)}` };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface OpaServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts OPA on a port that was free a moment before; another process may
 * take it in between, so a start that cannot bind is retried on a fresh one.
 */
export async function startOpa(binary: string): Promise<OpaServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOpaOnce(binary);
    } catch (err) {
      if (attempt === 3 || !/address already in use/.test((err as Error).message)) throw err;
    }
  }
}

async function startOpaOnce(binary: string): Promise<OpaServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(binary, ['run', '--server', '--addr', `127.0.0.1:${port}`, '--log-level', 'error', '--disable-telemetry', `${root}policies/chainsight.rego`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    // Wait for stderr to end, so an exit's reason (such as a port already in use) is in the message.
    if (child.exitCode !== null) {
      await new Promise((r) => setTimeout(r, 50));
      throw new Error(`opa exited (${child.exitCode}): ${stderr}`);
    }
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`opa did not become healthy: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
