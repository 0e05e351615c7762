/** Small statistics helpers for the benchmark children. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function median(xs: number[]): number {
  return percentile([...xs].sort((a, b) => a - b), 50);
}

/** Runs fn repeatedly for at least minMs (after one warm-up call) and returns calls per second. */
export async function rate(fn: () => unknown | Promise<unknown>, minMs = 1000): Promise<{ perSec: number; calls: number }> {
  await fn();
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < minMs) {
    await fn();
    calls++;
    elapsed = performance.now() - start;
  }
  return { perSec: (calls * 1000) / elapsed, calls };
}

/** Emits a child's result for bench/run.ts (the last stdout line). */
export function report(result: unknown): void {
  process.stdout.write('BENCH_RESULT ' + JSON.stringify(result) + '\n');
}

/**
 * Throughput of two modes measured side by side: adjacent passes form a pair
 * (order alternating, to cancel drift) and the ratio is the median of the
 * pairs' ratios, robust to a noisy neighbour.
 */
export async function sideBySide(pass: (on: boolean) => Promise<number>, rounds = 9): Promise<{ off: number; on: number; ratio: number }> {
  const off: number[] = [];
  const on: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const first = r % 2 === 0;
    const a = await pass(!first);
    const b = await pass(first);
    const [o, n] = first ? [a, b] : [b, a];
    off.push(o);
    on.push(n);
    ratios.push(n / o);
  }
  return { off: median(off), on: median(on), ratio: median(ratios) };
}
