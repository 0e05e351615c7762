/**
 * Helpers for detection section parsers: read a field, or its default when
 * absent, and add a problem (starting with the field's JSON pointer) when it
 * is of the wrong shape. The schema checks a file first; these also guard
 * sections given in code.
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
