/**
 * Helpers for detection section parsers: read a field, or its default when
 * absent, and add a problem (starting with the field's JSON pointer) when it
 * is of the wrong shape. The schema checks a file first; these also guard
 * sections given in code, and sections the schema leaves open report a
 * misspelt key (unknownFields) rather than ignore it.
 */
import { SEVERITIES, type Severity } from './alert.js';

export type Fields = Record<string, unknown>;

/** The section as an object; a problem and {} when it is not one. */
export function objectAt(raw: unknown, at: string, problems: string[]): Fields {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push(`${at}: must be a mapping`);
    return {};
  }
  return raw as Fields;
}

export function boolField(o: Fields, key: string, at: string, fallback: boolean, problems: string[]): boolean {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') {
    problems.push(`${at}/${key}: must be true or false`);
    return fallback;
  }
  return v;
}

export function intField(o: Fields, key: string, at: string, fallback: number, min: number, max: number, problems: string[]): number {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    problems.push(`${at}/${key}: must be an integer from ${min} to ${max}`);
    return fallback;
  }
  return v;
}

export function severityField(o: Fields, key: string, at: string, fallback: Severity, problems: string[]): Severity;
export function severityField(o: Fields, key: string, at: string, fallback: Severity | undefined, problems: string[]): Severity | undefined;
export function severityField(o: Fields, key: string, at: string, fallback: Severity | undefined, problems: string[]): Severity | undefined {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !(SEVERITIES as readonly string[]).includes(v)) {
    problems.push(`${at}/${key}: must be one of ${SEVERITIES.join(', ')}`);
    return fallback;
  }
  return v as Severity;
}

export function numberField(o: Fields, key: string, at: string, fallback: number, min: number, max: number, problems: string[]): number {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    problems.push(`${at}/${key}: must be a number from ${min} to ${max}`);
    return fallback;
  }
  return v;
}

/** A list of distinct non-empty strings of at most `maxLength` characters, or only values from `allowed` when given. */
export function stringsField(o: Fields, key: string, at: string, fallback: readonly string[], problems: string[], allowed?: readonly string[], maxLength = 1024): string[] {
  const v = o[key];
  if (v === undefined) return [...fallback];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || s.length === 0 || s.length > maxLength || (allowed !== undefined && !allowed.includes(s)))) {
    problems.push(`${at}/${key}: must be a list of ${allowed ? `values from ${allowed.join(', ')}` : `non-empty strings of at most ${maxLength} characters`}`);
    return [...fallback];
  }
  return [...new Set(v as string[])];
}

/** Reports fields the section does not define (a misspelt key would otherwise be ignored). */
export function unknownFields(o: Fields, known: readonly string[], at: string, problems: string[]): void {
  for (const k of Object.keys(o)) if (!known.includes(k)) problems.push(`${at}/${k}: unknown field`);
}

/** The longest learning or forget-after window: a year (a leap one). */
export const MAX_WINDOW_SEC = 31_622_400;

/** A window given in whole seconds (`<name>_sec`), in ms. */
export function secondsField(o: Fields, key: string, at: string, fallbackMs: number, minSec: number, problems: string[]): number {
  return intField(o, key, at, Math.round(fallbackMs / 1000), minSec, MAX_WINDOW_SEC, problems) * 1000;
}

export function optionalStringField(o: Fields, key: string, at: string, problems: string[]): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v === '') {
    problems.push(`${at}/${key}: must be a non-empty string`);
    return undefined;
  }
  return v;
}
