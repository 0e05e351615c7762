import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { backoffDelay, DEFAULT_BACKOFF, sleep, type BackoffPolicy } from '../../src/ingest/kafka-backoff.js';

const policy: BackoffPolicy = { initialMs: 100, maxMs: 10_000 };
const low = () => 0;
const high = () => 1;

describe('backoffDelay', () => {
  it('waits between half and all of initialMs on the first retry', () => {
    assert.equal(backoffDelay(0, policy, low), 50);
    assert.equal(backoffDelay(0, policy, high), 100);
    assert.equal(backoffDelay(0, policy, () => 0.5), 75);
  });

  it('doubles with each attempt until the cap', () => {
    const ceilings = [0, 1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, policy, high));
    assert.deepEqual(ceilings, [100, 200, 400, 800, 1600, 3200, 6400]);
    const floors = [0, 1, 2, 3].map((a) => backoffDelay(a, policy, low));
    assert.deepEqual(floors, [50, 100, 200, 400]);
  });

  it('never exceeds maxMs, and stays at least half of it once capped', () => {
    assert.equal(backoffDelay(7, policy, high), 10_000); // 12,800 capped
    assert.equal(backoffDelay(7, policy, low), 5_000);
    assert.equal(backoffDelay(50, policy, high), 10_000);
    assert.equal(backoffDelay(50, policy, low), 5_000);
  });

  it('stays finite for absurd attempt numbers', () => {
    const d = backoffDelay(1e9, { initialMs: 1, maxMs: Number.MAX_SAFE_INTEGER }, high);
    assert.ok(Number.isFinite(d), `got ${d}`);
    assert.equal(d, 2 ** 30);
  });

  it('treats negative attempts as the first one', () => {
    assert.equal(backoffDelay(-3, policy, high), 100);
    assert.equal(backoffDelay(-3, policy, low), 50);
  });

  it('uses the injected random source, not a fixed value', () => {
    const a = backoffDelay(3, policy, () => 0.1);
    const b = backoffDelay(3, policy, () => 0.9);
    assert.notEqual(a, b);
    assert.equal(a, 440);
    assert.equal(b, 760);
  });

  it('the defaults start at 100–200 ms and top out at 15–30 s', () => {
    assert.deepEqual([backoffDelay(0, DEFAULT_BACKOFF, low), backoffDelay(0, DEFAULT_BACKOFF, high)], [100, 200]);
    assert.deepEqual([backoffDelay(20, DEFAULT_BACKOFF, low), backoffDelay(20, DEFAULT_BACKOFF, high)], [15_000, 30_000]);
  });

  it('for any attempt and random draw: an integer within [capped/2, capped], never shrinking as attempts grow', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5_000 }),
        fc.integer({ min: 1, max: 600_000 }),
        fc.integer({ min: 0, max: 80 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (initialMs, extra, attempt, r) => {
          const p = { initialMs, maxMs: initialMs + extra };
          const capped = Math.min(initialMs * 2 ** Math.min(attempt, 30), p.maxMs);
          const d = backoffDelay(attempt, p, () => r);
          assert.ok(Number.isInteger(d));
          assert.ok(d >= Math.floor(capped / 2) && d <= Math.ceil(capped), `${d} outside [${capped / 2}, ${capped}]`);
          assert.ok(backoffDelay(attempt + 1, p, () => r) >= d);
        },
      ),
    );
  });
});

/** Pending timers that keep the process alive: a leaked sleep timer would show here. */
const liveTimers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('sleep', () => {
  it('resolves true when the time passes without an abort, leaving no listener or timer behind', async () => {
    const ac = new AbortController();
    const before = liveTimers();
    assert.equal(await sleep(5, ac.signal), true);
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
    assert.equal(liveTimers(), before);
  });

  it('resolves true without a signal', async () => {
    assert.equal(await sleep(1), true);
  });

  it('resolves false at once when the signal is already aborted, without starting a timer', { timeout: 10_000 }, async () => {
    const ac = new AbortController();
    ac.abort();
    const before = liveTimers();
    const pending = sleep(60_000, ac.signal);
    assert.equal(liveTimers(), before);
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
    assert.equal(await pending, false);
  });

  it('resolves false when aborted mid-sleep, and clears its timer and listener', { timeout: 10_000 }, async () => {
    const ac = new AbortController();
    const before = liveTimers();
    const pending = sleep(60_000, ac.signal);
    assert.equal(liveTimers(), before + 1);
    assert.equal(getEventListeners(ac.signal, 'abort').length, 1);
    setImmediate(() => ac.abort());
    assert.equal(await pending, false);
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
    assert.equal(liveTimers(), before, 'an aborted sleep must not keep a timer (and the process) alive');
  });

  it('an abort after the sleep ended changes nothing', async () => {
    const ac = new AbortController();
    const result = await sleep(1, ac.signal);
    ac.abort();
    assert.equal(result, true);
  });
});
