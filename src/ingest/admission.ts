/**
 * Admission control for the OTLP receiver, in the spirit of the Collector's
 * memory_limiter: every request reserves an estimate of the memory it will
 * hold (body, decompressed body, decoded spans, rows waiting for the store)
 * against one in-flight budget, and gives it back when it has been answered.
 * Over budget, the receiver throttles (429 + Retry-After) instead of letting
 * memory follow the load. Pure accounting: no I/O, no timers.
 */

/**
 * Accounted bytes per decompressed body byte, on top of the wire bytes. What
 * one decompressed OTLP protobuf byte turns into while its request is in
 * flight, measured on demo-shaped spans (~2.5 KB each, mostly chain tokens):
 * the decompressed buffer itself (1), decoded spans (1.25), action rows
 * (0.2), the INSERT's JSON (0.4) — 2.85 live — rounded up for the garbage
 * the collector has not reclaimed yet. bench/flood.ts checks it holds.
 */
export const DEFAULT_EXPANSION = 4;

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
  private readonly rss: () => number;
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

  /** Admits a request expected to hold `bytes` accounted bytes, or says why not. */
  admit(bytes: number): Reservation | Refusal {
    const refusal = this.check(0, bytes, this.requests === 0);
    if (refusal) return refusal;
    this.inflight += bytes;
    this.requests++;
    return new Reservation(this, bytes);
  }

  /** @internal */
  tryResize(from: number, to: number): Refusal | null {
    if (to <= from) {
      this.inflight -= from - to;
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
  }

  private check(held: number, wanted: number, ignoreMemory: boolean): Refusal | null {
    if (!Number.isFinite(wanted) || wanted < 0) throw new RangeError(`invalid reservation size ${wanted}`);
    if (wanted > this.maxInflightBytes) {
      return {
        kind: 'too_large',
        message: `request needs ~${wanted} bytes in flight, more than the receiver's whole budget of ${this.maxInflightBytes}: send smaller batches`,
      };
    }
    if (this.inflight - held + wanted > this.maxInflightBytes) {
      return this.throttle(`receiver busy: ${this.inflight} of ${this.maxInflightBytes} in-flight bytes in use, retry later`);
    }
    // With nothing in flight the resident memory is the engine's and the heap's
    // standing footprint: refusing then would never recover.
    if (!ignoreMemory && this.memoryLimitBytes > 0) {
      const rss = this.rss();
      if (rss > this.memoryLimitBytes) {
        return this.throttle(`receiver busy: resident memory ${rss} over the limit of ${this.memoryLimitBytes}, retry later`);
      }
    }
    return null;
  }

  private throttle(message: string): Refusal {
    this.throttled++;
    return { kind: 'throttled', retryAfterSeconds: this.retryAfterSeconds, message };
  }
}

function positive(name: string, n: number): number {
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`${name} must be a positive number, got ${n}`);
  return n;
}
