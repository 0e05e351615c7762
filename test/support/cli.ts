/**
 * Test helper: the compiled `chainsight` command as a user runs it (bin/ →
 * dist/), its JSON log lines collected as they arrive.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const REPO = resolve(import.meta.dirname, '../..');
export const CLI = join(REPO, 'bin', 'chainsight.js');

/** Newest modification time under a directory. */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** dist/ as `npm install` leaves it: rebuilt when a source is newer. */
export function ensureBuilt(): void {
  const main = join(REPO, 'dist', 'cli', 'main.js');
  if (existsSync(main) && statSync(main).mtimeMs >= newest(join(REPO, 'src'))) return;
  execFileSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(REPO, 'tsconfig.json')], { stdio: 'inherit' });
}

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

export interface RunningCli {
  child: ChildProcess;
  lines: LogLine[];
  /** The first log line matching `pred`, waiting for it (fails after `ms`, listing what was logged). */
  logged(pred: (l: LogLine) => boolean, ms?: number): Promise<LogLine>;
  kill(): void;
}

export function spawnCli(args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): RunningCli {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'ignore', 'pipe'] });
  const lines: LogLine[] = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stderr! }).on('line', (text) => {
    try {
      lines.push(JSON.parse(text) as LogLine);
    } catch {
      lines.push({ level: 60, msg: text });
    }
    for (const w of waiters.splice(0)) w();
  });
  const logged = (pred: (l: LogLine) => boolean, ms = 60_000) =>
    new Promise<LogLine>((resolveLine, reject) => {
      const timer = setTimeout(() => reject(new Error(`log line not seen; got:\n${lines.map((l) => l.msg).join('\n')}`)), ms);
      const check = () => {
        const hit = lines.find(pred);
        if (hit === undefined) return void waiters.push(check);
        clearTimeout(timer);
        resolveLine(hit);
      };
      check();
    });
  return {
    child,
    lines,
    logged,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
