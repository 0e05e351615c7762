/**
 * The trust directory watcher on the real filesystem: fs.watch, the stat
 * poll on its own (as on filesystems where fs.watch stays silent), bursts
 * folded into one reload, and a directory replaced under it.
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey } from '../../src/sdk/keys.js';
import { TrustStore } from '../../src/verify/trust-store.js';
import { TrustWatcher, directorySnapshot, type ReloadOutcome, type TrustWatcherOptions } from '../../src/verify/trust-watch.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

interface Watched {
  dir: string;
  trust: TrustStore;
  watcher: TrustWatcher;
  outcomes: ReloadOutcome[];
  /** Resolves with the first outcome that satisfies `pred` (fails after `ms`: a lost change, not slowness). */
  until(pred: (o: ReloadOutcome) => boolean, ms?: number): Promise<ReloadOutcome>;
}

async function watched(opts: Partial<TrustWatcherOptions>): Promise<Watched> {
  const dir = await mkdtemp(join(tmpdir(), 'chainsight-watch-'));
  const trust = await TrustStore.fromDirectory(dir);
  const outcomes: ReloadOutcome[] = [];
  const waiters: Array<() => void> = [];
  const watcher = new TrustWatcher(trust, {
    dir,
    debounceMs: 50,
    ...opts,
    onReload(o) {
      outcomes.push(o);
      for (const w of waiters.splice(0)) w();
    },
  });
  await watcher.start();
  cleanups.push(() => watcher.close(), () => rm(dir, { recursive: true, force: true }));
  const until = async (pred: (o: ReloadOutcome) => boolean, ms = 10_000): Promise<ReloadOutcome> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = outcomes.find(pred);
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching reload within ${ms} ms; saw ${JSON.stringify(outcomes.map((o) => o.trigger))}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  };
  return { dir, trust, watcher, outcomes, until };
}

test('fs.watch: a bundle written into the directory is loaded without a request', async () => {
  const w = await watched({ pollMs: 0 });
  const g = await generateKey({ dir: w.dir, trustDomain: 'co.com', authorization: true });
  const o = await w.until((x) => x.ok && w.trust.resolve('co.com', g.signingKey.kid) !== undefined);
  assert.equal(o.trigger, 'watch');
});

test('polling alone finds changes fs.watch would miss, and removals', async () => {
  const w = await watched({ useFsWatch: false, pollMs: 100 });
  const g = await generateKey({ dir: w.dir, trustDomain: 'co.com', authorization: true });
  const added = await w.until((x) => x.ok && w.trust.keyCount('co.com') === 1);
  assert.equal(added.trigger, 'poll');
  await rm(join(w.dir, 'co.com.jwks.json'));
  await w.until((x) => x.ok && !w.trust.hasTrustDomain('co.com'));
  assert.equal(w.trust.resolve('co.com', g.signingKey.kid), undefined);
});

test('a burst of writes is folded into few reloads, ending on the last write', async () => {
  const w = await watched({ pollMs: 0, debounceMs: 200 });
  for (let i = 0; i < 20; i++) await generateKey({ dir: w.dir, trustDomain: 'co.com', principal: `spiffe://co.com/agent/a${i}` });
  await w.until((x) => x.ok && w.trust.keyCount('co.com') === 20);
  assert.ok(w.outcomes.length < 20, `${w.outcomes.length} reloads for 20 writes`);
});

test('requests during a reload are folded into one more reload', async () => {
  const w = await watched({ pollMs: 0, useFsWatch: false });
  await generateKey({ dir: w.dir, trustDomain: 'co.com', authorization: true });
  const all = await Promise.all(Array.from({ length: 10 }, () => w.watcher.reload('signal')));
  assert.ok(all.every((o) => o.ok));
  assert.equal(w.outcomes.length, 2, 'the running reload, then one for everything asked meanwhile');
  assert.equal(w.trust.keyCount('co.com'), 1);
});

test('a failed reload is reported and keeps the keys; a directory recreated in place is picked up again', async () => {
  const w = await watched({ pollMs: 100 });
  await generateKey({ dir: w.dir, trustDomain: 'co.com', authorization: true });
  await w.until((x) => x.ok && w.trust.keyCount('co.com') === 1);
  await rm(w.dir, { recursive: true });
  const failed = await w.watcher.reload('signal');
  assert.equal(failed.ok, false);
  assert.match(failed.ok ? '' : failed.error.message, /cannot read trust directory/);
  assert.equal(w.trust.keyCount('co.com'), 1, 'kept');
  await mkdir(w.dir);
  await writeFile(join(w.dir, 'co.com.jwks.json'), JSON.stringify({ keys: [] }));
  await w.until((x) => x.ok && w.trust.keyCount('co.com') === 0 && w.trust.hasTrustDomain('co.com'));
});

test('the stat snapshot changes with a rewrite and ignores files that are not bundles', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'chainsight-snap-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'co.com.jwks.json'), '{"keys":[]}');
  const a = await directorySnapshot(dir);
  await writeFile(join(dir, 'notes.txt'), 'x');
  await writeFile(join(dir, '.scratch.jwks.json'), 'x');
  assert.equal(await directorySnapshot(dir), a);
  await writeFile(join(dir, 'co.com.jwks.json'), '{"keys": []}');
  assert.notEqual(await directorySnapshot(dir), a);
  assert.equal(await directorySnapshot(join(dir, 'missing')), '');
});

test('a mounted-config layout (bundles as links into a directory swapped by rename) is followed', async () => {
  const w = await watched({ useFsWatch: false, pollMs: 100 });
  const gen1 = join(w.dir, '..gen1');
  await mkdir(gen1);
  await generateKey({ dir: gen1, trustDomain: 'co.com', authorization: true, privateDir: join(w.dir, '..keys') });
  await symlink('..gen1', join(w.dir, '..data'));
  await symlink(join('..data', 'co.com.jwks.json'), join(w.dir, 'co.com.jwks.json'));
  await w.until((x) => x.ok && w.trust.keyCount('co.com') === 1);
  // The next version: a new directory, then one rename of the ..data link.
  const gen2 = join(w.dir, '..gen2');
  await mkdir(gen2);
  await generateKey({ dir: gen2, trustDomain: 'co.com', authorization: true, privateDir: join(w.dir, '..keys') });
  await generateKey({ dir: gen2, trustDomain: 'co.com', principal: 'spiffe://co.com/agent/a', privateDir: join(w.dir, '..keys') });
  await symlink('..gen2', join(w.dir, '..data_tmp'));
  await rename(join(w.dir, '..data_tmp'), join(w.dir, '..data'));
  await w.until((x) => x.ok && w.trust.keyCount('co.com') === 2);
});

test('a bundle added between loading the store and starting the watcher is not missed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'chainsight-late-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const trust = await TrustStore.fromDirectory(dir);
  await generateKey({ dir, trustDomain: 'co.com', authorization: true });
  const outcomes: ReloadOutcome[] = [];
  const watcher = new TrustWatcher(trust, { dir, useFsWatch: false, pollMs: 0, onReload: (o) => outcomes.push(o) });
  cleanups.push(() => watcher.close());
  assert.equal(trust.keyCount('co.com'), 0);
  await watcher.start();
  assert.equal(trust.keyCount('co.com'), 1);
  assert.deepEqual(outcomes, [], 'the catch-up read at start is not reported as a reload');
});
