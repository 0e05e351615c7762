/**
 * Readers for the values detection sections share (durations, bounded
 * integers, severities, booleans). Each takes the raw YAML value, where it
 * sits (a JSON pointer, which starts every problem so the loader can place
 * it in the file) and the problem list; a bad value is reported and its
 * default kept.
 */
import { SEVERITIES, type Severity } from '../alert.js';

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
  for (const k of Object.keys(fields)) if (!known.includes(k)) problems.push(`${at}/${k}: unknown field`);
}

/** The longest learning or forget-after window: a year (a leap one). */
export const MAX_WINDOW_SEC = 31_622_400;

/** A duration given in whole seconds (`<name>_sec`, as every detection section spells them), in ms. */
export function readSeconds(value: unknown, at: string, dfltMs: number, minSec: number, maxSec: number, problems: string[]): number {
  return readInt(value, at, Math.round(dfltMs / 1000), minSec, maxSec, problems) * 1000;
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
