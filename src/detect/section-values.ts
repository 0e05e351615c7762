/**
 * Field readers the shared ones (config-fields.ts) lack: fractional numbers,
 * lists of strings, and unknown keys (sections validated in code only, so a
 * misspelt key is reported rather than ignored). Same conventions: a problem
 * starts with the field's JSON pointer, and a bad value keeps its default.
 */
import type { Fields } from './config-fields.js';

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

export function unknownFields(o: Fields, known: readonly string[], at: string, problems: string[]): void {
  for (const k of Object.keys(o)) if (!known.includes(k)) problems.push(`${at}/${k}: unknown field`);
}
