/**
 * Admission control for the OTLP receiver, in the spirit of the Collector's
 * memory_limiter: every request reserves an estimate of the memory it will
 * hold (body, decompressed body, decoded spans, rows waiting for the store)
 * against one in-flight budget, and gives it back when it has been answered.
 * A request that does not fit waits, briefly and in arrival order, for room
 * (costing a socket, not memory: its body is not read yet); past that wait
 * the receiver throttles it (429 + Retry-After) instead of letting memory
 * follow the load. Accounting only: no I/O.
 */

/**
 * Accounted bytes per decompressed body byte, on top of the wire bytes. The
 * live heap one decompressed OTLP protobuf byte becomes, on demo-shaped spans
 * (~2.5 KB each, mostly chain tokens), is ~2.9 bytes: the buffer itself (1),
 * decoded spans (1.25), action rows (0.2), the INSERT's JSON (0.4). Resident
 * memory grows by ~8.3 bytes per wire byte in flight, measured by
 * bench/flood.ts: V8 lets its heap run ahead of live objects, the engine
 * parses and buffers every INSERT, freed buffers are not returned at once.
 * Accounting for 1 + 8 bytes per byte keeps the budget close to the resident
 * memory it stands for.
 */
export const DEFAULT_EXPANSION = 8;

export const DEFAULT_MAX_INFLIGHT_BYTES = 256 * 1024 * 1024;

export interface AdmissionOptions {
  /** The budget: accounted bytes all in-flight requests may hold together. */
  maxInflightBytes: number;
  /** Accounted bytes per decompressed byte (default DEFAULT_EXPANSION). */
  expansion?: number;
  /**
   * Optional soft limit on the process's resident memory: above it, new
   * requests are throttled while any request is in flight (0: off).
   */
  memoryLimitBytes?: number;
  /** Resident set size, injected for tests (default process.memoryUsage.rss). */
  rss?: () => number;
  /** Retry-After sent with a throttling answer (default 1 second). */
  retryAfterSeconds?: number;
  /** How long a request may wait for room before it is throttled (default 1000 ms; 0: never waits). */
  maxWaitMs?: number;
  /** Requests waiting at most; beyond, new ones are throttled at once (default 4096). */
  maxWaiting?: number;
}

interface Waiter {
  bytes: number;
  settle(result: Reservation | Refusal): void;
}

/** Why a request was not admitted, and what to answer. */
export type Refusal =
  | {
      /** Over budget now; retry later (HTTP 429 + Retry-After). */
      kind: 'throttled';
      retryAfterSeconds: number;
      message: string;
    }
  | {
      /** Larger than the whole budget: it can never be admitted (HTTP 413). */
      kind: 'too_large';
      message: string;
    };

export function isRefusal(x: Reservation | Refusal): x is Refusal {
  return !(x instanceof Reservation);
}

/** One request's share of the budget. release() is idempotent. */
export class Reservation {
  private held: number;
  private released = false;

  /** @internal created by AdmissionController.admit */
  constructor(
    private readonly controller: AdmissionController,
    bytes: number,
  ) {
    this.held = bytes;
  }

  /** Accounted bytes this request holds now. */
  get bytes(): number {
    return this.released ? 0 : this.held;
  }

  /**
   * Sets what this request holds to `total` accounted bytes (after learning
   * its real size: a chunked body growing, a body decompressed). Shrinking
   * always succeeds; growing past the budget is refused and leaves the
   * reservation as it was, to be released by the caller.
   */
  resize(total: number): Refusal | null {
    if (this.released) throw new Error('reservation already released');
    const refusal = this.controller.tryResize(this.held, total);
    if (refusal === null) this.held = total;
    return refusal;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.controller.give(this.held);
  }
}

export class AdmissionController {
  readonly maxInflightBytes: number;
  readonly expansion: number;
  readonly memoryLimitBytes: number;
  readonly retryAfterSeconds: number;
  readonly maxWaitMs: number;
  readonly maxWaiting: number;
  private readonly rss: () => number;
  private readonly waiting: Waiter[] = [];
  private inflight = 0;
  private requests = 0;
  private throttled = 0;

  constructor(opts: AdmissionOptions) {
    this.maxInflightBytes = positive('maxInflightBytes', opts.maxInflightBytes);
    this.expansion = positive('expansion', opts.expansion ?? DEFAULT_EXPANSION);
    this.memoryLimitBytes = opts.memoryLimitBytes ?? 0;
    if (!Number.isFinite(this.memoryLimitBytes) || this.memoryLimitBytes < 0) throw new RangeError('memoryLimitBytes must be >= 0');
    this.retryAfterSeconds = positive('retryAfterSeconds', opts.retryAfterSeconds ?? 1);
    this.rss = opts.rss ?? (() => process.memoryUsage.rss());
    this.maxWaitMs = opts.maxWaitMs ?? 1000;
    this.maxWaiting = opts.maxWaiting ?? 4096;
    if (!(this.maxWaitMs >= 0) || !(this.maxWaiting >= 0)) throw new RangeError('maxWaitMs and maxWaiting must be >= 0');
  }

  /** Requests waiting for room now. */
  get waitingRequests(): number {
    return this.waiting.length;
  }

  /** Accounted bytes held by admitted requests now. */
  get inflightBytes(): number {
    return this.inflight;
  }

  /** Requests admitted and not yet released. */
  get inflightRequests(): number {
    return this.requests;
  }

  /** Requests refused with 'throttled' since start. */
  get throttledTotal(): number {
    return this.throttled;
  }

  /**
   * The estimate for a body of `wireBytes` as received that decompresses to
   * `decompressedBytes` (equal for an uncompressed body, the best guess
   * before decompressing).
   */
  cost(wireBytes: number, decompressedBytes = wireBytes): number {
    return wireBytes + Math.ceil(decompressedBytes * this.expansion);
  }

  /** Admits a request expected to hold `bytes` accounted bytes now, or says why not. */
  admit(bytes: number): Reservation | Refusal {
    // Requests already waiting go first: arrivals do not overtake them.
    if (this.waiting.length > 0) {
      return this.tooLarge(bytes) ?? this.throttle(`receiver busy: ${this.waiting.length} requests waiting, retry later`);
    }
    return this.take(bytes);
  }

  /**
   * Like admit, but a request that does not fit now waits in arrival order for
   * up to maxWaitMs while others release their bytes. Aborting (the client
   * went away) gives up the place; the promise then resolves to a refusal.
   */
  admitWaiting(bytes: number, signal?: AbortSignal): Promise<Reservation | Refusal> {
    const tooLarge = this.tooLarge(bytes);
    if (tooLarge) return Promise.resolve(tooLarge);
    if (this.waiting.length === 0 && this.check(0, bytes, this.requests === 0, false) === null) return Promise.resolve(this.take(bytes));
    if (this.maxWaitMs === 0 || this.waiting.length >= this.maxWaiting || signal?.aborted) return Promise.resolve(this.admit(bytes));
    return new Promise((resolve) => {
      const done = (result: Reservation | Refusal) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const i = this.waiting.indexOf(waiter);
        if (i !== -1) this.waiting.splice(i, 1);
        resolve(result);
      };
      const waiter: Waiter = { bytes, settle: done };
      const onAbort = () => {
        done(this.throttle('request abandoned while waiting'));
        this.drain();
      };
      const timer = setTimeout(() => {
        done(this.throttle(`receiver busy: no room within ${this.maxWaitMs} ms, retry later`));
        this.drain();
      }, this.maxWaitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
      this.drain();
    });
  }

  /** @internal */
  tryResize(from: number, to: number): Refusal | null {
    if (to <= from) {
      this.inflight -= from - to;
      this.drain();
      return null;
    }
    // A request already admitted is not throttled by the soft memory limit:
    // its body is read already, and refusing it now would only waste that.
    const refusal = this.check(from, to, true);
    if (refusal) return refusal;
    this.inflight += to - from;
    return null;
  }

  /** @internal */
  give(bytes: number): void {
    this.inflight = Math.max(0, this.inflight - bytes);
    this.requests = Math.max(0, this.requests - 1);
    this.drain();
  }

  private take(bytes: number): Reservation | Refusal {
    const refusal = this.check(0, bytes, this.requests === 0);
    if (refusal) return refusal;
    this.inflight += bytes;
    this.requests++;
    return new Reservation(this, bytes);
  }

  /** Admits waiters from the head of the line while they fit. */
  private drain(): void {
    while (this.waiting.length > 0) {
      const head = this.waiting[0]!;
      const r = this.check(0, head.bytes, this.requests === 0, false);
      if (r) return;
      head.settle(this.take(head.bytes));
    }
  }

  /** A refusal when `bytes` could never fit the budget, null when it could. */
  private tooLarge(bytes: number): Refusal | null {
    if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`invalid reservation size ${bytes}`);
    if (bytes <= this.maxInflightBytes) return null;
    return {
      kind: 'too_large',
      message: `request needs ~${bytes} bytes in flight, more than the receiver's whole budget of ${this.maxInflightBytes}: send smaller batches`,
    };
  }

  private check(held: number, wanted: number, ignoreMemory: boolean, count = true): Refusal | null {
    const tooLarge = this.tooLarge(wanted);
    if (tooLarge) return tooLarge;
    if (this.inflight - held + wanted > this.maxInflightBytes) {
      return count ? this.throttle(`receiver busy: ${this.inflight} of ${this.maxInflightBytes} in-flight bytes in use, retry later`) : BUSY;
    }
    // With nothing in flight the resident memory is the engine's and the heap's
    // standing footprint: refusing then would never recover.
    if (!ignoreMemory && this.memoryLimitBytes > 0) {
      const rss = this.rss();
      if (rss > this.memoryLimitBytes) {
        return count ? this.throttle(`receiver busy: resident memory ${rss} over the limit of ${this.memoryLimitBytes}, retry later`) : BUSY;
      }
    }
    return null;
  }

  private throttle(message: string): Refusal {
    this.throttled++;
    return { kind: 'throttled', retryAfterSeconds: this.retryAfterSeconds, message };
  }
}

/** A refusal that is not counted: used while deciding whether a waiter may go. */
const BUSY: Refusal = { kind: 'throttled', retryAfterSeconds: 1, message: 'busy' };

function positive(name: string, n: number): number {
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`${name} must be a positive number, got ${n}`);
  return n;
}
