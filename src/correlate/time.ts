const MIN_NS = -2208988800n * 1_000_000_000n; // 1900-01-01, DateTime64's documented lower bound
const MAX_NS = 9223372036854775807n; // 2262-04-11T23:47:16.854775807Z: DateTime64(9) ticks are a signed 64-bit count
const MAX_NS_TEXT = '9223372036854775807';

/**
 * A span time (unix ns, decimal) as DateTime64(9) input. ClickHouse guesses
 * the meaning of short numeric strings (a "5" became a date in 2026, an
 * 18-digit one is refused), so only the common 19-digit form within range
 * goes as-is; anything else is spelled out as a date-time text, clamped to
 * the column's range. Decoding already clamps (src/ingest/otlp/mapping.ts),
 * so clamping here only guards other callers.
 */
export function nsToDateTime64(ns: string): string {
  if (ns.length === 19 && ns.charCodeAt(0) !== 45 && ns <= MAX_NS_TEXT) return ns;
  let n: bigint;
  try {
    n = BigInt(ns);
  } catch {
    n = 0n;
  }
  if (n < MIN_NS) n = MIN_NS;
  if (n > MAX_NS) n = MAX_NS;
  let sec = n / 1_000_000_000n;
  let frac = n % 1_000_000_000n;
  if (frac < 0n) {
    frac += 1_000_000_000n;
    sec -= 1n;
  }
  const iso = new Date(Number(sec) * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${frac.toString().padStart(9, '0')}`;
}
