/**
 * From a schema-valid policy document to a compiled policy: cross-field
 * checks the schema cannot state, defaults, precomputed implication closures,
 * and the revision (content hash). The compiled form's `data` is plain JSON:
 * the built-in engine reads it, and the OPA engine loads the very same object
 * as OPA data, so both judge by one normalised policy.
 */
import { createHash } from 'node:crypto';
import { ScopeMatcher } from '../verify/scope.js';
import { compilePattern, type CompiledPattern } from './spiffe-type.js';
import { HUMAN_TYPE, type PolicyDocument } from './types.js';

/** A problem at a path inside the document (for errors naming the line). */
export interface DocumentProblem {
  path: Array<string | number>;
  message: string;
}

/** A scope selector pre-classified for the Rego engine (lower-cased; see overlaps() in scope-select.ts). */
export interface SelectorData {
  kind: 'exact' | 'prefix' | 'suffix';
  /** The exact scope, the prefix before `*`, or the suffix after `*`. */
  text: string;
}

export function selectorData(sel: string): SelectorData {
  const s = sel.toLowerCase();
  if (s.startsWith('*') && s.length > 1) return { kind: 'suffix', text: s.slice(1) };
  if (s.endsWith('*')) return { kind: 'prefix', text: s.slice(0, -1) };
  return { kind: 'exact', text: s };
}

/** The normalised policy: every optional field present (null when unset). */
export interface PolicyData {
  version: string;
  revision: string;
  agentTypes: { id: string; patterns: CompiledPattern[]; types: string[] };
  depth: Array<{ id: string; max: number; rootAgentType: string | null; trustDomain: string | null }>;
  scopes: null | {
    id: string;
    implications: Record<string, string[]>;
    /** Implication key → every scope it grants, transitively. */
    closures: Record<string, string[]>;
    wildcards: null | { id: string; allowed: boolean; minPrefixLength: number };
  };
  lifetime: Array<{ id: string; maxSec: number; scopes: string[] | null; selectors: SelectorData[] | null; fromDepth: number }>;
  delegation: Array<{ id: string; to: string[]; from: string[] }>;
  crossDomain: {
    id: string;
    allow: Array<{ id: string; from: string; to: string; delegatorTypes: string[] | null; delegateeTypes: string[] | null; maxScope: string[] }>;
  };
  approval: Array<{ id: string; scopes: string[]; selectors: SelectorData[] }>;
}

export interface CompiledPolicy {
  data: PolicyData;
  /** Runtime views of `data`, built once. */
  closures: ReadonlyMap<string, readonly string[]>;
  knownTypes: ReadonlySet<string>;
}

/** Rule id used for cross-domain default deny when the file has no crossDomain section. */
export const DEFAULT_CROSS_DOMAIN_ID = 'cross-domain.default';

/** Cross-field problems of a schema-valid document (empty when none). */
export function documentProblems(doc: PolicyDocument): DocumentProblem[] {
  const problems: DocumentProblem[] = [];
  const ids = new Map<string, string>();
  const seeId = (id: string, path: Array<string | number>) => {
    const prev = ids.get(id);
    if (prev !== undefined) problems.push({ path: [...path, 'id'], message: `rule id "${id}" is already used at ${prev}` });
    else ids.set(id, '/' + path.join('/'));
  };
  const types = new Set(doc.agentTypes.types);
  if (types.has(HUMAN_TYPE)) problems.push({ path: ['agentTypes', 'types'], message: `"${HUMAN_TYPE}" is reserved for the root link's issuer` });
  const knownType = (t: string, path: Array<string | number>, humanOk = false) => {
    if (!types.has(t) && !(humanOk && t === HUMAN_TYPE)) problems.push({ path, message: `"${t}" is not one of agentTypes.types` });
  };
  seeId(doc.agentTypes.id, ['agentTypes']);
  doc.agentTypes.patterns.forEach((p, i) => {
    const n = p.path.split('/').filter((s) => s === '{type}').length;
    if (n !== 1) problems.push({ path: ['agentTypes', 'patterns', i, 'path'], message: `a pattern needs exactly one {type} segment, found ${n}` });
  });
  doc.depth?.forEach((r, i) => {
    seeId(r.id, ['depth', i]);
    if (r.rootAgentType !== undefined) knownType(r.rootAgentType, ['depth', i, 'rootAgentType']);
  });
  if (doc.scopes) {
    seeId(doc.scopes.id, ['scopes']);
    if (doc.scopes.wildcards) seeId(doc.scopes.wildcards.id, ['scopes', 'wildcards']);
  }
  doc.lifetime?.forEach((r, i) => seeId(r.id, ['lifetime', i]));
  doc.delegation?.forEach((r, i) => {
    seeId(r.id, ['delegation', i]);
    r.to.forEach((t, j) => knownType(t, ['delegation', i, 'to', j]));
    r.from.forEach((t, j) => knownType(t, ['delegation', i, 'from', j], true));
  });
  if (doc.crossDomain) {
    seeId(doc.crossDomain.id, ['crossDomain']);
    doc.crossDomain.allow?.forEach((r, i) => {
      seeId(r.id, ['crossDomain', 'allow', i]);
      if (r.from === r.to) problems.push({ path: ['crossDomain', 'allow', i, 'to'], message: 'from and to are the same trust domain: that is not a crossing' });
      r.delegatorTypes?.forEach((t, j) => knownType(t, ['crossDomain', 'allow', i, 'delegatorTypes', j]));
      r.delegateeTypes?.forEach((t, j) => knownType(t, ['crossDomain', 'allow', i, 'delegateeTypes', j]));
    });
  } else if (ids.has(DEFAULT_CROSS_DOMAIN_ID)) {
    problems.push({ path: [], message: `rule id "${DEFAULT_CROSS_DOMAIN_ID}" is reserved for the default cross-domain rule` });
  }
  doc.approval?.forEach((r, i) => seeId(r.id, ['approval', i]));
  return problems;
}

/** Stable JSON (sorted keys) for hashing. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']';
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return '{' + Object.keys(o).sort().map((k) => JSON.stringify(k) + ':' + canonical(o[k])).join(',') + '}';
  }
  return JSON.stringify(v);
}

/** Compile a document already checked by the schema and `documentProblems`. */
export function compilePolicy(doc: PolicyDocument): CompiledPolicy {
  const implications = doc.scopes?.implications ?? {};
  const matcher = new ScopeMatcher(implications);
  const closures: Record<string, string[]> = {};
  for (const k of Object.keys(implications).sort()) closures[k] = matcher.closure(k).filter((s) => s !== k);
  const body: Omit<PolicyData, 'revision'> = {
    version: doc.version,
    agentTypes: { id: doc.agentTypes.id, patterns: doc.agentTypes.patterns.map(compilePattern), types: [...doc.agentTypes.types] },
    depth: (doc.depth ?? []).map((r) => ({ id: r.id, max: r.max, rootAgentType: r.rootAgentType ?? null, trustDomain: r.trustDomain ?? null })),
    scopes: doc.scopes
      ? {
          id: doc.scopes.id,
          implications,
          closures,
          wildcards: doc.scopes.wildcards ? { id: doc.scopes.wildcards.id, allowed: doc.scopes.wildcards.allowed, minPrefixLength: doc.scopes.wildcards.minPrefixLength ?? 0 } : null,
        }
      : null,
    lifetime: (doc.lifetime ?? []).map((r) => ({ id: r.id, maxSec: r.maxSec, scopes: r.scopes ?? null, selectors: r.scopes?.map(selectorData) ?? null, fromDepth: r.fromDepth ?? 1 })),
    delegation: (doc.delegation ?? []).map((r) => ({ id: r.id, to: [...r.to], from: [...r.from] })),
    crossDomain: {
      id: doc.crossDomain?.id ?? DEFAULT_CROSS_DOMAIN_ID,
      allow: (doc.crossDomain?.allow ?? []).map((r) => ({
        id: r.id,
        from: r.from,
        to: r.to,
        delegatorTypes: r.delegatorTypes ?? null,
        delegateeTypes: r.delegateeTypes ?? null,
        maxScope: [...r.maxScope],
      })),
    },
    approval: (doc.approval ?? []).map((r) => ({ id: r.id, scopes: [...r.scopes], selectors: r.scopes.map(selectorData) })),
  };
  const revision = createHash('sha256').update(canonical(body)).digest('hex');
  const data: PolicyData = { ...body, revision };
  return { data, closures: new Map(Object.entries(closures)), knownTypes: new Set(data.agentTypes.types) };
}
