/**
 * Reloading the policy file while spans flow. The file is watched (fs.watch,
 * plus a poll of its mtime and size as a safety net: editors replace files,
 * and some filesystems drop events); a change is re-read after a short settle
 * delay. A file that fails to load leaves the last good policy in force and
 * is reported with every problem, so `current` is never a bad policy.
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { CompiledPolicy } from './compile.js';
import { loadPolicyFile, PolicyLoadError } from './loader.js';

export type ReloadEvent =
  | { kind: 'loaded'; version: string; revision: string; previousRevision: string }
  | { kind: 'unchanged'; revision: string }
  | { kind: 'rejected'; error: string; keptRevision: string };

export interface PolicyWatcherOptions {
  /** Delay after a change before reading (editors write in several steps). Default 200 ms. */
  settleMs?: number;
  /** Poll interval for the mtime/size check. Default 1000 ms. */
  pollMs?: number;
  /** Called with the new policy after a successful reload (e.g. PolicyEngine.swap). */
  onPolicy?: (policy: CompiledPolicy) => void;
  /** Called after every reload attempt. */
  onReload?: (event: ReloadEvent) => void;
}

export class PolicyWatcher {
  private policy: CompiledPolicy;
  private watcher?: FSWatcher;
  private poll?: NodeJS.Timeout;
  private settle?: NodeJS.Timeout;
  private lastStamp = '';
  private reloading: Promise<ReloadEvent> | undefined;
  private closed = false;

  private constructor(
    readonly path: string,
    initial: CompiledPolicy,
    private readonly opts: PolicyWatcherOptions,
  ) {
    this.policy = initial;
  }

  /** Load the file (throws PolicyLoadError when the first load fails) and start watching it. */
  static async start(path: string, opts: PolicyWatcherOptions = {}): Promise<PolicyWatcher> {
    const w = new PolicyWatcher(path, await loadPolicyFile(path), opts);
    w.lastStamp = await w.stamp();
    w.begin();
    return w;
  }

  /** The policy in force: always the last one that loaded. */
  get current(): CompiledPolicy {
    return this.policy;
  }

  private async stamp(): Promise<string> {
    try {
      const s = await stat(this.path);
      return `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch {
      return 'missing';
    }
  }

  private begin(): void {
    try {
      // Watch the directory: a file replaced by rename keeps no watcher of its own.
      this.watcher = watch(dirname(this.path), (_event, name) => {
        if (name === null || name === basename(this.path)) this.schedule();
      });
      this.watcher.on('error', () => undefined);
    } catch {
      // No inotify (or too many watches): the poll below still catches changes.
    }
    this.poll = setInterval(() => {
      void this.stamp().then((s) => {
        if (s !== this.lastStamp) this.schedule();
      });
    }, this.opts.pollMs ?? 1000);
    this.poll.unref();
  }

  private schedule(): void {
    if (this.closed) return;
    clearTimeout(this.settle);
    this.settle = setTimeout(() => void this.reload(), this.opts.settleMs ?? 200);
    this.settle.unref();
  }

  /** Re-read the file now. Never throws; the outcome says what happened. */
  reload(): Promise<ReloadEvent> {
    // One reload at a time; a change during it schedules another.
    this.reloading ??= this.doReload().finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  private async doReload(): Promise<ReloadEvent> {
    this.lastStamp = await this.stamp();
    let event: ReloadEvent;
    try {
      const next = await loadPolicyFile(this.path);
      if (next.data.revision === this.policy.data.revision) {
        event = { kind: 'unchanged', revision: next.data.revision };
      } else {
        const previousRevision = this.policy.data.revision;
        this.policy = next;
        event = { kind: 'loaded', version: next.data.version, revision: next.data.revision, previousRevision };
        this.opts.onPolicy?.(next);
      }
    } catch (e) {
      const error = e instanceof PolicyLoadError ? e.message : `cannot load ${this.path}: ${(e as Error).message}`;
      event = { kind: 'rejected', error, keptRevision: this.policy.data.revision };
    }
    try {
      this.opts.onReload?.(event);
    } catch {
      // A listener's failure must not stop reloads.
    }
    return event;
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    clearInterval(this.poll);
    clearTimeout(this.settle);
  }
}
