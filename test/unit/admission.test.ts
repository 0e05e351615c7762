import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AdmissionController, type Refusal, Reservation, isRefusal } from '../../src/ingest/admission.js';

function admitted(x: Reservation | Refusal): Reservation {
  assert.ok(x instanceof Reservation, `expected admission, got ${JSON.stringify(x)}`);
  return x;
}

function refused(x: Reservation | Refusal, kind: Refusal['kind']): Refusal {
  assert.ok(isRefusal(x), 'expected a refusal');
  assert.equal(x.kind, kind);
  return x;
}

describe('admission budget', () => {
  it('admits within the budget and throttles beyond it, with Retry-After', () => {
    const a = new AdmissionController({ maxInflightBytes: 1000, retryAfterSeconds: 2 });
    admitted(a.admit(600));
    admitted(a.admit(400));
    assert.equal(a.inflightBytes, 1000);
    const r = refused(a.admit(1), 'throttled');
    assert.equal(r.kind === 'throttled' && r.retryAfterSeconds, 2);
    assert.equal(a.throttledTotal, 1);
    assert.equal(a.inflightRequests, 2);
  });

  it('recovers by itself as requests are released', () => {
    const a = new AdmissionController({ maxInflightBytes: 1000 });
    const first = admitted(a.admit(800));
    refused(a.admit(300), 'throttled');
    first.release();
    admitted(a.admit(300));
    assert.equal(a.inflightBytes, 300);
  });

  it('refuses a request larger than the whole budget as too large, even when idle', () => {
    const a = new AdmissionController({ maxInflightBytes: 1000 });
    refused(a.admit(1001), 'too_large');
    assert.equal(a.throttledTotal, 0);
    admitted(a.admit(1000));
  });

  it('release is idempotent: a double release never frees another request\'s bytes', () => {
    const a = new AdmissionController({ maxInflightBytes: 1000 });
    const r1 = admitted(a.admit(500));
    admitted(a.admit(500));
    r1.release();
    r1.release();
    assert.equal(a.inflightBytes, 500);
    assert.equal(a.inflightRequests, 1);
    refused(a.admit(501), 'throttled');
  });

  it('resize grows within the budget, refuses past it keeping what was held, and shrinks', () => {
    const a = new AdmissionController({ maxInflightBytes: 1000 });
    const r = admitted(a.admit(100));
    assert.equal(r.resize(700), null);
    assert.equal(a.inflightBytes, 700);
    admitted(a.admit(200));
    refused(r.resize(900) ?? (assert.fail('expected refusal') as never), 'throttled');
    assert.equal(r.bytes, 700);
    assert.equal(a.inflightBytes, 900);
    assert.equal(r.resize(50), null);
    assert.equal(a.inflightBytes, 250);
    const big = r.resize(2000);
    assert.equal(big?.kind, 'too_large');
    r.release();
    assert.equal(a.inflightBytes, 200);
    assert.throws(() => r.resize(10), /released/);
  });

  it('cost counts wire bytes plus the expansion of the decompressed body', () => {
    const a = new AdmissionController({ maxInflightBytes: 1 << 30, expansion: 4 });
    assert.equal(a.cost(100), 500);
    assert.equal(a.cost(100, 1000), 4100);
  });

  it('rejects nonsense configuration and reservation sizes', () => {
    assert.throws(() => new AdmissionController({ maxInflightBytes: 0 }), RangeError);
    assert.throws(() => new AdmissionController({ maxInflightBytes: 10, expansion: -1 }), RangeError);
    assert.throws(() => new AdmissionController({ maxInflightBytes: 10, memoryLimitBytes: -5 }), RangeError);
    const a = new AdmissionController({ maxInflightBytes: 10 });
    assert.throws(() => a.admit(-1), RangeError);
    assert.throws(() => a.admit(Number.NaN), RangeError);
    assert.equal(a.inflightBytes, 0);
  });

  it('never goes negative and returns to zero whatever the order of admits, resizes and releases', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('admit' as const), n: fc.nat(1500) }),
            fc.record({ op: fc.constant('resize' as const), i: fc.nat(20), n: fc.nat(1500) }),
            fc.record({ op: fc.constant('release' as const), i: fc.nat(20) }),
          ),
          { maxLength: 60 },
        ),
        (ops) => {
          const a = new AdmissionController({ maxInflightBytes: 1000 });
          const held: Reservation[] = [];
          for (const o of ops) {
            if (o.op === 'admit') {
              const r = a.admit(o.n);
              if (!isRefusal(r)) held.push(r);
            } else if (held.length > 0) {
              const r = held[o.i % held.length]!;
              if (o.op === 'release') r.release();
              else {
                try {
                  r.resize(o.n);
                } catch {
                  // released already: resizing it is refused, and must change nothing
                }
              }
            }
            assert.ok(a.inflightBytes >= 0 && a.inflightBytes <= 1000);
            assert.equal(a.inflightBytes, held.reduce((s, r) => s + r.bytes, 0));
          }
          for (const r of held) r.release();
          assert.equal(a.inflightBytes, 0);
          assert.equal(a.inflightRequests, 0);
        },
      ),
    );
  });
});

describe('soft memory limit', () => {
  it('throttles new requests while resident memory is over the limit and something is in flight', () => {
    let rss = 100;
    const a = new AdmissionController({ maxInflightBytes: 1000, memoryLimitBytes: 500, rss: () => rss });
    const r = admitted(a.admit(10));
    rss = 600;
    const refusal = refused(a.admit(10), 'throttled');
    assert.match(refusal.message, /resident memory/);
    // Already admitted requests may still grow: their bodies are read.
    assert.equal(r.resize(50), null);
    rss = 400;
    admitted(a.admit(10));
  });

  it('admits when nothing is in flight even over the limit, so it cannot lock itself out', () => {
    const a = new AdmissionController({ maxInflightBytes: 1000, memoryLimitBytes: 500, rss: () => 10_000 });
    const r = admitted(a.admit(10));
    refused(a.admit(10), 'throttled');
    r.release();
    admitted(a.admit(10));
  });
});

describe('waiting for room', () => {
  it('admits waiters in arrival order as room is released; arrivals do not overtake them', async () => {
    const a = new AdmissionController({ maxInflightBytes: 1000, maxWaitMs: 10_000 });
    const holder = admitted(a.admit(800));
    const first = a.admitWaiting(300);
    const second = a.admitWaiting(100);
    assert.equal(a.waitingRequests, 2);
    // 100 would fit beside the holder, but two requests wait ahead of it.
    refused(a.admit(100), 'throttled');
    holder.release();
    const [r1, r2] = await Promise.all([first, second]);
    admitted(r1);
    admitted(r2);
    assert.equal(a.inflightBytes, 400);
    assert.equal(a.waitingRequests, 0);
  });

  it('throttles a waiter when no room comes within the wait, leaving the accounts as they were', async () => {
    const a = new AdmissionController({ maxInflightBytes: 1000, maxWaitMs: 30, retryAfterSeconds: 3 });
    admitted(a.admit(900));
    const r = refused(await a.admitWaiting(200), 'throttled');
    assert.equal(r.kind === 'throttled' && r.retryAfterSeconds, 3);
    assert.equal(a.waitingRequests, 0);
    assert.equal(a.inflightBytes, 900);
    assert.equal(a.throttledTotal, 1);
  });

  it('a client that goes away while waiting gives up its place and is never given bytes', async () => {
    const a = new AdmissionController({ maxInflightBytes: 1000, maxWaitMs: 10_000 });
    const holder = admitted(a.admit(900));
    const gone = new AbortController();
    const abandoned = a.admitWaiting(500, gone.signal);
    const next = a.admitWaiting(400);
    gone.abort();
    refused(await abandoned, 'throttled');
    assert.equal(a.waitingRequests, 1);
    holder.release();
    admitted(await next);
    assert.equal(a.inflightBytes, 400);
    assert.equal(a.inflightRequests, 1);
  });

  it('never queues a request that could never fit, nor beyond the queue bound, nor without a wait', async () => {
    const a = new AdmissionController({ maxInflightBytes: 1000, maxWaitMs: 10_000, maxWaiting: 1 });
    const holder = admitted(a.admit(1000));
    refused(await a.admitWaiting(1001), 'too_large');
    const queued = a.admitWaiting(10);
    refused(await a.admitWaiting(10), 'throttled');
    holder.release();
    admitted(await queued);
    const noWait = new AdmissionController({ maxInflightBytes: 10, maxWaitMs: 0 });
    admitted(noWait.admit(10));
    refused(await noWait.admitWaiting(1), 'throttled');
    assert.equal(noWait.waitingRequests, 0);
  });
});
