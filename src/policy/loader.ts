/**
 * Loading a policy file: YAML (JSON is YAML too) parsed with positions,
 * validated against schemas/policy.schema.json, then the cross-field checks,
 * then compiled. Every error names the file, the line and column, and the
 * field (as a JSON pointer), so an operator can fix it without guessing.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Ajv, type ErrorObject } from 'ajv';
import { isMap, isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { compilePolicy, documentProblems, type CompiledPolicy } from './compile.js';
import type { PolicyDocument } from './types.js';

/** Same relative path from src/policy and dist/policy. */
export const POLICY_SCHEMA_URL = new URL('../../schemas/policy.schema.json', import.meta.url);

/** Largest policy file accepted. */
export const MAX_POLICY_BYTES = 1 << 20;

export interface PolicyProblem {
  file: string;
  line: number;
  column: number;
  /** JSON pointer of the field, '' for the whole document. */
  field: string;
  message: string;
}

export class PolicyLoadError extends Error {
  override name = 'PolicyLoadError';
  constructor(readonly problems: PolicyProblem[]) {
    super(problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.field || '(document)'}: ${p.message}`).join('\n'));
  }
}

const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
const validate = ajv.compile<PolicyDocument>(JSON.parse(readFileSync(POLICY_SCHEMA_URL, 'utf8')) as object);

export function pointer(path: ReadonlyArray<string | number>): string {
  return path.map((p) => '/' + String(p).replaceAll('~', '~0').replaceAll('/', '~1')).join('');
}

/** Line and column of the node at `path` (or of its key, or of its nearest ancestor). */
export function position(doc: Document, lc: LineCounter, path: ReadonlyArray<string | number>, atKey?: string): { line: number; column: number } {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (!isNode(node)) continue;
    if (n === path.length && atKey !== undefined && isMap(node)) {
      const pair = node.items.find((p) => isNode(p.key) && (p.key as { value?: unknown }).value === atKey);
      if (pair && isNode(pair.key) && pair.key.range) return pos(lc, pair.key.range[0]);
    }
    if (node.range) return pos(lc, node.range[0]);
  }
  return { line: 1, column: 1 };
}

export function pos(lc: LineCounter, offset: number): { line: number; column: number } {
  const p = lc.linePos(offset);
  return { line: p.line, column: p.col };
}

/** What each pattern-checked definition of the schema means, for readable errors. */
const PATTERN_MEANING: Record<string, string> = {
  ruleId: 'must be a rule id: lower-case letters, digits, ".", "_", "-" (up to 64, not starting with "input." or "engine.")',
  agentType: 'must be an agent type: letters, digits, ".", "_", "-" (up to 64)',
  trustDomain: 'must be a trust domain name: lower-case letters, digits, ".", "_", "-"',
  scope: 'must be a scope: printable ASCII without spaces, "*" only as the last character',
  selector: 'must be a scope selector: a scope, "prefix*" or "*suffix"',
  typePattern: 'must be a path of "/"-separated segments, each a literal, "{type}" or "*"',
};

function fromAjv(file: string, doc: Document, lc: LineCounter, e: ErrorObject): PolicyProblem {
  const path = e.instancePath === '' ? [] : e.instancePath.slice(1).split('/').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  const params = e.params as { additionalProperty?: string; missingProperty?: string; allowedValues?: unknown };
  const key = params.additionalProperty ?? params.missingProperty;
  const field = pointer(key !== undefined ? [...path, key] : path);
  let message = e.message ?? 'is invalid';
  if (e.keyword === 'pattern') {
    const def = /definitions\/(\w+)/.exec(e.schemaPath)?.[1];
    message = `${JSON.stringify(e.data)} ${(def && PATTERN_MEANING[def]) || message}`;
  }
  if (params.additionalProperty !== undefined) message = `unknown field "${params.additionalProperty}"`;
  if (params.missingProperty !== undefined) message = `required field "${params.missingProperty}" is missing`;
  return { file, ...position(doc, lc, path.map((s) => (/^\d+$/.test(s) ? Number(s) : s)), params.additionalProperty), field, message };
}

/** Parse, validate and compile policy text. Throws PolicyLoadError listing every problem. */
export function parsePolicy(text: string, file = '<policy>'): CompiledPolicy {
  if (Buffer.byteLength(text, 'utf8') > MAX_POLICY_BYTES) {
    throw new PolicyLoadError([{ file, line: 1, column: 1, field: '', message: `file is larger than ${MAX_POLICY_BYTES} bytes` }]);
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new PolicyLoadError(doc.errors.map((e) => ({ file, ...pos(lc, e.pos[0]), field: '', message: e.message })));
  }
  let value: unknown;
  try {
    // Aliases are where YAML bombs live; a policy has no use for many.
    value = doc.toJS({ maxAliasCount: 50 });
  } catch (e) {
    throw new PolicyLoadError([{ file, line: 1, column: 1, field: '', message: (e as Error).message }]);
  }
  if (!validate(value)) throw new PolicyLoadError((validate.errors ?? []).map((e) => fromAjv(file, doc, lc, e)));
  const problems = documentProblems(value);
  if (problems.length > 0) {
    throw new PolicyLoadError(problems.map((p) => ({ file, ...position(doc, lc, p.path), field: pointer(p.path), message: p.message })));
  }
  return compilePolicy(value);
}

/** Read and compile a policy file. */
export async function loadPolicyFile(path: string): Promise<CompiledPolicy> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new PolicyLoadError([{ file: path, line: 0, column: 0, field: '', message: `cannot read: ${(e as Error).message}` }]);
  }
  return parsePolicy(text, path);
}
