/**
 * Reload with a real file while decisions flow: an edit takes effect within
 * seconds, a bad edit keeps the last good policy and says why, a fixed file
 * loads again, and no decision after a swap comes from the old revision.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyEngine } from '../../src/policy/policy-engine.js';
import { PolicyWatcher, type ReloadEvent } from '../../src/policy/watcher.js';
import { PolicyLoadError } from '../../src/policy/loader.js';
import type { PolicyDecision } from '../../src/policy/types.js';
import { act, healthy } from '../support/policy-fixtures.js';

const shipped = await readFile(new URL('../../policies/default.yaml', import.meta.url), 'utf8');

async function until<T>(what: string, fn: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('edits reload while decisions flow; a bad edit keeps the last good policy', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'policy-watch-'));
  const file = join(dir, 'policy.yaml');
  await writeFile(file, shipped);
  const events: ReloadEvent[] = [];
  let engine: PolicyEngine | undefined;
  const watcher = await PolicyWatcher.start(file, { settleMs: 50, pollMs: 200, onReload: (e) => events.push(e), onPolicy: (p) => engine?.swap(p) });
  engine = new PolicyEngine(watcher.current);

  // Decisions flow the whole time, as spans would.
  const input = act(healthy(), ['ec2:DescribeInstances']);
  const seen: PolicyDecision[] = [];
  let flowing = true;
  const flow = (async () => {
    while (flowing) {
      seen.push(engine.evaluateAction(input));
      await new Promise((r) => setImmediate(r));
    }
  })();
  try {
    const first = watcher.current.data.revision;
    assert.equal(engine.evaluateAction(input).result, 'allow');

    // 1. A stricter policy, written in place: the same action is now denied.
    await writeFile(file, shipped.replace('max: 5', 'max: 2').replace('"2026-11-29.1"', '"strict"'));
    const loaded = await until('the reload', () => events.find((e) => e.kind === 'loaded'));
    assert.equal(loaded.kind === 'loaded' && loaded.previousRevision, first);
    await until('a deny', () => (engine.evaluateAction(input).result === 'deny' ? true : undefined));
    const strict = watcher.current.data.revision;
    const firstStrict = seen.findIndex((d) => d.revision === strict);
    assert.ok(firstStrict >= 0);
    assert.ok(seen.slice(firstStrict).every((d) => d.revision === strict && d.reasons[0]?.code === 'policy.depth.global'), 'no decision from the old policy after the swap');

    // 2. A broken edit (replaced by rename, as editors do): rejected with the line, old policy kept.
    await writeFile(join(dir, 'tmp'), shipped.replace('max: 5', 'max: five'));
    await rename(join(dir, 'tmp'), file);
    const rejected = await until('the rejection', () => events.find((e) => e.kind === 'rejected'));
    assert.ok(rejected.kind === 'rejected');
    assert.match(rejected.error, /policy\.yaml:\d+:\d+: \/depth\/0\/max: must be integer/);
    assert.equal(rejected.keptRevision, strict);
    assert.equal(watcher.current.data.revision, strict);
    assert.equal(engine.evaluateAction(input).revision, strict);

    // 3. Fixed: the original policy is back in force.
    await writeFile(file, shipped);
    await until('the fix', () => (watcher.current.data.revision === first ? true : undefined));
    await until('an allow', () => (engine.evaluateAction(input).result === 'allow' ? true : undefined));
  } finally {
    flowing = false;
    await flow;
    watcher.close();
    await rm(dir, { recursive: true, force: true });
  }
  assert.ok(seen.length > 10);
});

test('a first load that fails throws with every problem; a deleted file is a rejected reload', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'policy-watch-'));
  const file = join(dir, 'policy.yaml');
  try {
    await writeFile(file, 'version: 1\n');
    await assert.rejects(PolicyWatcher.start(file), PolicyLoadError);
    await writeFile(file, shipped);
    const w = await PolicyWatcher.start(file, { pollMs: 100, settleMs: 20 });
    await rm(file);
    const e = await w.reload();
    assert.equal(e.kind, 'rejected');
    assert.match((e as { error: string }).error, /cannot read/);
    assert.equal(w.current.data.version, '2026-11-29.1');
    w.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
