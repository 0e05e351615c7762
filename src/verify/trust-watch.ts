/**
 * Reloads a TrustStore when its directory changes, or on request (SIGHUP).
 *
 * Two detectors, because neither alone is reliable: fs.watch reacts at once
 * but misses changes on some filesystems (NFS, some container mounts) and
 * dies when the directory is replaced; a periodic stat of the bundle files
 * catches what it missed. Bursts of events (an editor's save, a copy) are
 * debounced into one reload, and reloads never overlap.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { TrustLoad, TrustStore } from './trust-store.js';
import { trustDomainOfFileName } from './trust-bundle.js';

export type ReloadTrigger = 'signal' | 'watch' | 'poll' | 'request';

export type ReloadOutcome =
  | { ok: true; trigger: ReloadTrigger; load: TrustLoad }
  | { ok: false; trigger: ReloadTrigger; error: Error };

export interface TrustWatcherOptions {
  dir: string;
  /** Quiet time after the last change event before reloading (default 250 ms). */
  debounceMs?: number;
  /** Stat-based check interval (default 2 s); 0 turns it off. */
  pollMs?: number;
  /** Use fs.watch (default true); off, only polling detects changes. */
  useFsWatch?: boolean;
  onReload(outcome: ReloadOutcome): void;
  /** fs.watch could not be set up or failed; polling still runs. */
  onWatchError?(err: Error): void;
}

/**
 * What the directory's bundle files look like to stat: names, inodes, sizes,
 * times. Any write or rename changes it; an unreadable directory reads as ''.
 */
export async function directorySnapshot(dir: string): Promise<string> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return '';
  }
  const parts: string[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.') || trustDomainOfFileName(name) === undefined) continue;
    try {
      const s = await stat(join(dir, name));
      parts.push(`${name}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`);
    } catch {
      parts.push(`${name}:gone`);
    }
  }
  try {
    const d = await stat(dir);
    parts.push(`.:${d.ino}`);
  } catch {
    /* listed a moment ago; the next poll sees it */
  }
  return parts.join('\n');
}

export class TrustWatcher {
  private fsWatcher: FSWatcher | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private snapshot: string | undefined;
  private running: Promise<ReloadOutcome> | undefined;
  private pending: ReloadTrigger | undefined;
  private closed = false;
  private readonly debounceMs: number;
  private readonly pollMs: number;

  constructor(
    private readonly store: TrustStore,
    private readonly opts: TrustWatcherOptions,
  ) {
    this.debounceMs = opts.debounceMs ?? 250;
    this.pollMs = opts.pollMs ?? 2000;
  }

  /**
   * Start watching. The store is re-read once, silently, so changes made
   * since it was loaded (start-up runs migrations in between) are not missed.
   */
  async start(): Promise<void> {
    this.arm();
    this.snapshot = await directorySnapshot(this.opts.dir);
    await this.store.reload().catch(() => undefined);
    if (this.pollMs > 0) {
      this.pollTimer = setInterval(() => void this.poll(), this.pollMs);
      this.pollTimer.unref();
    }
  }

  /**
   * Reload now. A reload already running is followed by exactly one more
   * (changes made during it are read), however many requests arrive meanwhile.
   */
  reload(trigger: ReloadTrigger = 'request'): Promise<ReloadOutcome> {
    if (this.running) {
      this.pending ??= trigger;
      return this.running.then((done) => this.running ?? (this.closed ? done : this.reload(trigger)));
    }
    const run = (async (): Promise<ReloadOutcome> => {
      // Taken before reading: a change after this point shows up at the next poll.
      this.snapshot = await directorySnapshot(this.opts.dir);
      let outcome: ReloadOutcome;
      try {
        outcome = { ok: true, trigger, load: await this.store.reload() };
      } catch (e) {
        outcome = { ok: false, trigger, error: e instanceof Error ? e : new Error(String(e)) };
      }
      if (!this.closed) this.opts.onReload(outcome);
      return outcome;
    })();
    this.running = run;
    void run.then(() => {
      this.running = undefined;
      const next = this.pending;
      this.pending = undefined;
      if (next !== undefined && !this.closed) void this.reload(next);
    });
    return run;
  }

  close(): void {
    this.closed = true;
    this.fsWatcher?.close();
    this.fsWatcher = undefined;
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
  }

  private arm(): void {
    if (this.closed || this.fsWatcher !== undefined || this.opts.useFsWatch === false) return;
    try {
      const w = watch(this.opts.dir, { persistent: false }, () => this.changed());
      w.on('error', (err) => {
        this.opts.onWatchError?.(err);
        w.close();
        if (this.fsWatcher === w) this.fsWatcher = undefined;
      });
      this.fsWatcher = w;
    } catch (e) {
      this.opts.onWatchError?.(e as Error);
    }
  }

  private changed(): void {
    if (this.closed) return;
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      void this.reload('watch');
    }, this.debounceMs);
    this.debounceTimer.unref();
  }

  private async poll(): Promise<void> {
    if (this.closed || this.running) return;
    const now = await directorySnapshot(this.opts.dir);
    if (now === this.snapshot || this.closed) return;
    const replaced = dirInode(now) !== dirInode(this.snapshot ?? '');
    if (replaced) {
      // A new directory at the path: the old watch points at the old inode.
      this.fsWatcher?.close();
      this.fsWatcher = undefined;
    }
    this.arm();
    await this.reload('poll');
  }
}

function dirInode(snapshot: string): string {
  const i = snapshot.lastIndexOf('.:');
  return i < 0 ? '' : snapshot.slice(i);
}
