/**
 * Runs windowed detectors, each on its own interval: one evaluation at a time
 * per detector (the next is scheduled when the last one ended), errors logged
 * and counted without stopping the schedule, and everything stopped on close.
 */
import type { DetectorContext, DetectorOutput, WindowedDetector } from './detector.js';
import type { DetectFailure } from './stage.js';

export interface SchedulerHooks {
  /** Stores what an evaluation found; a rejection counts as the evaluation failing. */
  deliver(detector: string, out: DetectorOutput): Promise<void>;
  onError?(f: DetectFailure): void;
  onEvaluated?(detector: string, seconds: number): void;
  now?(): number;
}

export class DetectorScheduler {
  private readonly timers = new Map<WindowedDetector, NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly detectors: readonly WindowedDetector[],
    private readonly ctx: DetectorContext,
    private readonly hooks: SchedulerHooks,
  ) {}

  /** Schedules every detector's first run one interval from now. */
  start(): void {
    for (const d of this.detectors) this.schedule(d);
  }

  /** Runs one detector now (tests, and the first run after start when wanted). */
  async runOnce(d: WindowedDetector): Promise<void> {
    const now = this.hooks.now?.() ?? Date.now();
    const started = process.hrtime.bigint();
    try {
      const out = await d.evaluate(this.ctx, now);
      if (out.signals.length > 0 || (out.resolutions?.length ?? 0) > 0) await this.hooks.deliver(d.name, out);
    } catch (error) {
      this.hooks.onError?.({ detector: d.name, phase: 'evaluate', error });
    } finally {
      this.hooks.onEvaluated?.(d.name, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  /** Stops scheduling and waits for evaluations in flight. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
  }

  private schedule(d: WindowedDetector): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(d);
      const run = this.runOnce(d).finally(() => {
        this.running.delete(run);
        this.schedule(d);
      });
      this.running.add(run);
    }, Math.max(100, d.intervalMs));
    t.unref();
    this.timers.set(d, t);
  }
}
