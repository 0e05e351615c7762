/**
 * What the `paths` and `depth` sections read beyond the shared field helpers
 * (src/detect/config-fields.ts): windows in whole seconds, an optional file
 * name, and unknown fields (these sections are checked here, not by the
 * schema). Problems start with the field's JSON pointer, like every section's.
 */
import { intField, type Fields } from '../config-fields.js';

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

/** Reports fields the section does not define (a misspelt key would otherwise be ignored). */
export function unknownFields(fields: Fields, known: readonly string[], at: string, problems: string[]): void {
  for (const k of Object.keys(fields)) if (!known.includes(k)) problems.push(`${at}/${k}: unknown field`);
}
