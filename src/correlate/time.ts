const MIN_NS = -2208988800n * 1_000_000_000n; // 1900-01-01, DateTime64's lower bound
const MAX_NS = 10413792000n * 1_000_000_000n; // 2300-01-01, its upper bound

/**
 * A span time (unix ns, decimal) as DateTime64(9) input. ClickHouse guesses
 * the meaning of short numeric strings (a "5" became a date in 2026), so only
 * the common 19-digit form goes as-is; anything else is spelled out as a
 * date-time text, clamped to the column's range.
 */
export function nsToDateTime64(ns: string): string {
  if (ns.length === 19 && ns.charCodeAt(0) !== 45) return ns;
  let n: bigint;
  try {
    n = BigInt(ns);
  } catch {
    n = 0n;
  }
  if (n < MIN_NS) n = MIN_NS;
  if (n >= MAX_NS) n = MAX_NS - 1n;
  let sec = n / 1_000_000_000n;
  let frac = n % 1_000_000_000n;
  if (frac < 0n) {
    frac += 1_000_000_000n;
    sec -= 1n;
  }
  const iso = new Date(Number(sec) * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${frac.toString().padStart(9, '0')}`;
}
