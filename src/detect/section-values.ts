/**
 * Readers for the values of a detection config section: durations, numbers,
 * lists. A bad value is reported in `problems` (with where it sits) and its
 * default kept, so one typo is a clear error, never a silently different
 * detector.
 */
import { SEVERITIES, type Severity } from './alert.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** Ten years: beyond any window that makes sense, well inside exact integer arithmetic. */
const MAX_DURATION_MS = 3650 * 86_400_000;

/** The section's fields ({} when absent); a non-mapping is a problem. Unknown keys are problems too. */
export function readSection(raw: unknown, at: string, known: readonly string[], problems: string[]): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push(`${at}: must be a mapping`);
    return {};
  }
  const fields = raw as Record<string, unknown>;
  for (const k of Object.keys(fields)) if (!known.includes(k)) problems.push(`${at}.${k}: unknown field`);
  return fields;
}

/** `<n><unit>` (ms, s, m, h, d), e.g. "90d", "5m"; a bare number is seconds. At least `minMs`. */
export function readDurationMs(v: unknown, at: string, dflt: number, problems: string[], minMs = 1): number {
  if (v === undefined) return dflt;
  let ms: number | undefined;
  if (typeof v === 'number' && Number.isFinite(v)) ms = v * 1000;
  else if (typeof v === 'string') {
    const m = /^(\d{1,12})(ms|s|m|h|d)$/.exec(v.trim());
    if (m) ms = Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  }
  if (ms === undefined || ms < minMs || ms > MAX_DURATION_MS) {
    problems.push(`${at}: ${JSON.stringify(v)} is not a duration of at least ${minMs} ms (e.g. "30s", "5m", "90d", or seconds)`);
    return dflt;
  }
  return Math.round(ms);
}

export function readNumber(v: unknown, at: string, dflt: number, min: number, max: number, problems: string[], integer = false): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    problems.push(`${at}: ${JSON.stringify(v)} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
    return dflt;
  }
  return v;
}

export function readBoolean(v: unknown, at: string, dflt: boolean, problems: string[]): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') {
    problems.push(`${at}: ${JSON.stringify(v)} must be true or false`);
    return dflt;
  }
  return v;
}

export function readSeverity(v: unknown, at: string, dflt: Severity, problems: string[]): Severity {
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || !(SEVERITIES as readonly string[]).includes(v)) {
    problems.push(`${at}: ${JSON.stringify(v)} must be one of ${SEVERITIES.join(', ')}`);
    return dflt;
  }
  return v as Severity;
}

/** A list of non-empty strings, each at most `maxLength`; or only values from `allowed` when given. */
export function readStrings(v: unknown, at: string, dflt: readonly string[], problems: string[], allowed?: readonly string[], maxLength = 1024): string[] {
  if (v === undefined) return [...dflt];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || s.length === 0 || s.length > maxLength || (allowed !== undefined && !allowed.includes(s)))) {
    problems.push(`${at}: must be a list of ${allowed ? `values from ${allowed.join(', ')}` : `non-empty strings of at most ${maxLength} characters`}`);
    return [...dflt];
  }
  return [...new Set(v as string[])];
}
