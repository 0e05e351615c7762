/**
 * The detection configuration: one YAML file (CHAINSIGHT_DETECTION names it;
 * `off` disables detection; unset, the built-in defaults with detection on).
 * Parsed with positions, validated against schemas/detection.schema.json,
 * then each section by its owner's parser (src/detect/registry.ts), which
 * fills in defaults. Every problem names the file, line, column and field.
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { LineCounter, parseDocument } from 'yaml';
import { pointer, pos, position } from '../policy/loader.js';
import { DETECTION_MODULES, type DetectionSections } from './registry.js';

/** Same relative path from src/detect and dist/detect. */
export const DETECTION_SCHEMA_URL = new URL('../../schemas/detection.schema.json', import.meta.url);
export const MAX_DETECTION_BYTES = 1 << 20;

export interface DetectionConfig {
  enabled: boolean;
  /** Where it came from: a file, 'defaults' or 'off'. */
  source: string;
  sections: DetectionSections;
}

export class DetectionConfigError extends Error {
  override name = 'DetectionConfigError';
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

const ajv = new Ajv({ allErrors: true, strict: true });
const validate = ajv.compile(JSON.parse(readFileSync(DETECTION_SCHEMA_URL, 'utf8')) as object);

/** Every section parsed from `raw` (an object, or undefined for defaults); problems are added, each starting with its field's pointer. */
export function parseSections(raw: Record<string, unknown>, problems: string[]): DetectionSections {
  const out: Record<string, unknown> = {};
  for (const [name, module] of Object.entries(DETECTION_MODULES)) {
    out[name] = module.parse(raw[name] ?? {}, `/${name}`, problems);
  }
  return out as DetectionSections;
}

/** The built-in defaults: detection on, every section's defaults. */
export function defaultDetectionConfig(): DetectionConfig {
  const problems: string[] = [];
  const sections = parseSections({}, problems);
  if (problems.length > 0) throw new Error(`built-in detection defaults are invalid: ${problems.join('; ')}`);
  return { enabled: true, source: 'defaults', sections };
}

/** Detection configuration from YAML text; throws DetectionConfigError listing every problem. */
export function parseDetectionConfig(text: string, file = '<detection>'): DetectionConfig {
  const at = (line: number, column: number, field: string, message: string) => `${file}:${line}:${column}: ${field || '(document)'}: ${message}`;
  if (Buffer.byteLength(text, 'utf8') > MAX_DETECTION_BYTES) throw new DetectionConfigError([at(1, 1, '', `file is larger than ${MAX_DETECTION_BYTES} bytes`)]);
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) throw new DetectionConfigError(doc.errors.map((e) => { const p = pos(lc, e.pos[0]); return at(p.line, p.column, '', e.message); }));
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 50 }) ?? {};
  } catch (e) {
    throw new DetectionConfigError([at(1, 1, '', (e as Error).message)]);
  }
  const located = (path: string[], message: string, key?: string) => {
    const p = position(doc, lc, path, key);
    return at(p.line, p.column, pointer(key === undefined ? path : [...path, key]), message);
  };
  if (!validate(value)) {
    throw new DetectionConfigError((validate.errors ?? []).map((e) => {
      const path = e.instancePath === '' ? [] : e.instancePath.slice(1).split('/').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
      const extra = (e.params as { additionalProperty?: string }).additionalProperty;
      const allowed = (e.params as { allowedValues?: unknown[] }).allowedValues;
      const message = extra !== undefined ? `unknown field "${extra}"` : allowed !== undefined ? `must be one of ${allowed.join(', ')}` : (e.message ?? 'is invalid');
      return located(path, message, extra);
    }));
  }
  const raw = value as Record<string, unknown>;
  const problems: string[] = [];
  const sections = parseSections(raw, problems);
  if (problems.length > 0) {
    // A section parser's problem starts with its field's pointer: placed in the file when it names one.
    throw new DetectionConfigError(problems.map((p) => {
      const m = /^(\/[^:\s]*):\s*(.*)$/s.exec(p);
      if (!m) return at(1, 1, '', p);
      const path = m[1]!.slice(1).split('/').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
      return located(path, m[2]!);
    }));
  }
  return { enabled: raw.enabled !== false, source: file, sections };
}

/** What CHAINSIGHT_DETECTION says: undefined or 'on' for defaults, 'off' to disable, otherwise a file. */
export function loadDetectionConfig(setting: string | undefined): DetectionConfig {
  if (setting === undefined || setting === '' || setting === 'on') return defaultDetectionConfig();
  if (setting === 'off') return { ...defaultDetectionConfig(), enabled: false, source: 'off' };
  let text: string;
  try {
    text = readFileSync(setting, 'utf8');
  } catch (e) {
    throw new DetectionConfigError([`${setting}: cannot read: ${(e as Error).message}`]);
  }
  return parseDetectionConfig(text, setting);
}
