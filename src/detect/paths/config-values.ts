/**
 * Readers for the values detection sections share (durations, bounded
 * integers, severities, booleans). Each takes the raw YAML value, where it
 * sits (for the message) and the problem list; a bad value is reported and
 * its default kept, so one typo never turns detection off silently.
 */
import { SEVERITIES, type Severity } from '../alert.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** 10 years: far longer than any learning or forget window makes sense, short enough for exact arithmetic. */
const MAX_DURATION_MS = 10 * 365 * 86_400_000;

/** A mapping's fields, or undefined (with a problem) when the value is present but not a mapping. */
export function sectionFields(raw: unknown, at: string, problems: string[]): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push(`${at}: must be a mapping`);
    return {};
  }
  return raw as Record<string, unknown>;
}

/** Reports fields the section does not define (a misspelt key would otherwise be ignored). */
export function unknownFields(fields: Record<string, unknown>, known: readonly string[], at: string, problems: string[]): void {
  for (const k of Object.keys(fields)) if (!known.includes(k)) problems.push(`${at}.${k}: unknown field`);
}

/** A duration: `<n><unit>` with unit ms, s, m, h or d (e.g. "7d"), or a number of seconds. */
export function readDuration(value: unknown, at: string, dflt: number, problems: string[]): number {
  if (value === undefined) return dflt;
  let ms: number | undefined;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) ms = value * 1000;
  else if (typeof value === 'string') {
    const m = /^(\d{1,12})(ms|s|m|h|d)$/.exec(value.trim());
    if (m) ms = Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  }
  if (ms === undefined || ms > MAX_DURATION_MS) {
    problems.push(`${at}: ${JSON.stringify(value)} is not a duration (e.g. "30m", "12h", "7d", or seconds), up to 10 years`);
    return dflt;
  }
  return Math.round(ms);
}

export function readInt(value: unknown, at: string, dflt: number, min: number, max: number, problems: string[]): number {
  if (value === undefined) return dflt;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.push(`${at}: ${JSON.stringify(value)} must be an integer from ${min} to ${max}`);
    return dflt;
  }
  return value;
}

export function readBool(value: unknown, at: string, dflt: boolean, problems: string[]): boolean {
  if (value === undefined) return dflt;
  if (typeof value !== 'boolean') {
    problems.push(`${at}: ${JSON.stringify(value)} must be true or false`);
    return dflt;
  }
  return value;
}

export function readSeverity(value: unknown, at: string, dflt: Severity, problems: string[]): Severity {
  if (value === undefined) return dflt;
  if (typeof value !== 'string' || !(SEVERITIES as readonly string[]).includes(value)) {
    problems.push(`${at}: ${JSON.stringify(value)} must be one of ${SEVERITIES.join(', ')}`);
    return dflt;
  }
  return value as Severity;
}

export function readString(value: unknown, at: string, problems: string[]): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value === '') {
    problems.push(`${at}: must be a non-empty string`);
    return undefined;
  }
  return value;
}
