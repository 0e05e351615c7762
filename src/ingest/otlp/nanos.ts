/**
 * Unix-nanosecond timestamps: exact decimal strings (what ClickHouse
 * DateTime64(9) takes) and rounded milliseconds. Pure double arithmetic,
 * because BigInt per timestamp is measurably slower on the decode hot path.
 */

const TWO_POW_32 = 4294967296;
const TWO_POW_32_MOD_1E9 = 294967296; // 2^32 mod 10^9
const TWO_POW_48_MOD_1E9 = 976710656; // 2^48 mod 10^9
const MAX_SAFE_HIGH = 0x200000; // high word below this keeps the value under 2^53

/** The unsigned 64-bit value (lo, hi 32-bit words) as an exact decimal string. */
export function u64ToDecimal(lo: number, hi: number): string {
  lo >>>= 0;
  hi >>>= 0;
  if (hi < MAX_SAFE_HIGH) return String(hi * TWO_POW_32 + lo);
  // value = hh*2^48 + hl*2^32 + lo; its remainder mod 1e9 computed exactly
  // from products that stay below 2^53.
  const hh = hi >>> 16;
  const hl = hi & 0xffff;
  const rem = (((hh * TWO_POW_48_MOD_1E9) % 1e9) + ((hl * TWO_POW_32_MOD_1E9) % 1e9) + (lo % 1e9)) % 1e9;
  // The double approximation is off by at most a few thousand, far less than
  // half of 1e9, so rounding the quotient recovers it exactly.
  const quot = Math.round((hi * TWO_POW_32 + lo - rem) / 1e9);
  return String(quot) + String(rem).padStart(9, '0');
}

/** Milliseconds since the epoch, rounded, from the (lo, hi) words. */
export function u64NanosToMs(lo: number, hi: number): number {
  return Math.round(((hi >>> 0) * TWO_POW_32 + (lo >>> 0)) / 1e6);
}

const DECIMAL_U64 = /^[0-9]{1,20}$/;
const U64_MAX = '18446744073709551615';

/**
 * Normalises an OTLP/JSON uint64 (decimal string or JSON number) to a
 * canonical decimal string; null when it is not a valid uint64.
 */
export function jsonNanosToDecimal(value: unknown): string | null {
  if (typeof value === 'string') {
    if (!DECIMAL_U64.test(value)) return null;
    let i = 0;
    while (i < value.length - 1 && value.charCodeAt(i) === 48) i++;
    const digits = i === 0 ? value : value.slice(i);
    if (digits.length === 20 && digits > U64_MAX) return null;
    return digits;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0 || value >= 18446744073709551616) return null;
    // Beyond 2^53 the sender already lost precision; keep what arrived.
    return Number.isSafeInteger(value) ? String(value) : BigInt(Math.trunc(value)).toString();
  }
  return null;
}

/** Rounded milliseconds from a canonical decimal nanosecond string. */
export function decimalNanosToMs(decimal: string): number {
  return Math.round(Number(decimal) / 1e6);
}

/**
 * The latest time a DateTime64(9) column holds: its ticks are a signed 64-bit
 * count of nanoseconds, so 2^63−1 ns = 2262-04-11T23:47:16.854775807Z. A later
 * value fails the INSERT with DECIMAL_OVERFLOW (measured with chdb; the
 * documented 2299-12-31 bound holds only for coarser precisions). OTLP times
 * are unsigned, so none is earlier than 1970, inside the column's range.
 */
export const MAX_STORABLE_NS = '9223372036854775807';

/** Whether a canonical decimal (no leading zeros) nanosecond time fits DateTime64(9). */
export function storableNanos(decimal: string): boolean {
  return decimal.length < 19 || (decimal.length === 19 && decimal <= MAX_STORABLE_NS);
}

/** a < b for canonical non-negative decimals. */
export function decimalLess(a: string, b: string): boolean {
  return a.length !== b.length ? a.length < b.length : a < b;
}
