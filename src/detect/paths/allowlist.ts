/**
 * The explicit allowlist: delegations an operator expects, which the
 * first-seen detector then never raises (it still learns them). Entries name
 * agents, agent types and trust domains by glob pattern:
 *
 *   allow:
 *     - from: "spiffe://acme.example/agent/planner/**"   # delegator: agent id or type
 *       to: "spiffe://acme.example/agent/*"              # delegatee: agent id or type
 *     - from_domain: acme.example                       # every delegation from acme.example
 *       to_domain: "*.partner.example"                  # to a partner domain (and the crossing itself)
 *     - path: ["spiffe://acme.example/agent/planner", "**"]   # path shapes, type by type
 *
 * `*` matches within one segment (no "/" or "."), `**` anything, a trailing
 * `/**` also nothing. An entry's fields all have to match; fields left out
 * match anything, but an entry must name something. Specified in
 * schemas/alerts.md (section `paths`). Pure: the file is read elsewhere.
 */
import { parseDocument } from 'yaml';

const MAX_ALLOWLIST_BYTES = 1024 * 1024;
const MAX_PATTERN = 2048;

type Matcher = (s: string) => boolean;

export interface AllowEntry {
  /** Where it was written, for logs. */
  at: string;
  from?: Matcher;
  to?: Matcher;
  fromDomain?: Matcher;
  toDomain?: Matcher;
  path?: Matcher[] | undefined;
  /** Positions of `**` elements in `path`. */
  pathAny?: boolean[];
}

export interface Allowlist {
  entries: AllowEntry[];
}

export const EMPTY_ALLOWLIST: Allowlist = { entries: [] };

/** One end of an edge as the allowlist sees it. */
export interface EdgeEnd {
  id: string;
  type: string;
  domain: string;
}

/** A glob compiled to an anchored regular expression. */
export function globMatcher(pattern: string, separators: string): Matcher {
  const cls = `[^${separators.replace(/[\\\]^-]/g, '\\$&')}]*`;
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' && pattern[i + 1] === '*') {
      i++;
      // "/**" at the end also matches the bare prefix.
      if (i === pattern.length - 1 && re.endsWith('/')) re = `${re.slice(0, -1)}(?:/.*)?`;
      else re += '.*';
    } else if (c === '*') re += cls;
    else re += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  const rx = new RegExp(`^${re}$`, 's');
  return (s) => rx.test(s);
}

/** Whether the edge `a → b` is allowed (every edge kind of it, and the crossing it makes). */
export function edgeAllowed(list: Allowlist, a: EdgeEnd, b: EdgeEnd): boolean {
  return list.entries.some((e) => e.path === undefined
    && (e.from === undefined || e.from(a.id) || e.from(a.type))
    && (e.to === undefined || e.to(b.id) || e.to(b.type))
    && (e.fromDomain === undefined || e.fromDomain(a.domain))
    && (e.toDomain === undefined || e.toDomain(b.domain)));
}

/** Whether the type edge `a → b` (types only: no single agent decides it) is allowed. */
export function typeEdgeAllowed(list: Allowlist, a: EdgeEnd, b: EdgeEnd): boolean {
  return list.entries.some((e) => e.path === undefined
    && (e.from === undefined || e.from(a.type))
    && (e.to === undefined || e.to(b.type))
    && (e.fromDomain === undefined || e.fromDomain(a.domain))
    && (e.toDomain === undefined || e.toDomain(b.domain)));
}

/** Whether delegations from domain `a` to domain `b` are allowed as such (an entry naming only domains). */
export function crossingAllowed(list: Allowlist, a: string, b: string): boolean {
  return list.entries.some((e) => e.path === undefined && e.from === undefined && e.to === undefined
    && (e.fromDomain === undefined || e.fromDomain(a))
    && (e.toDomain === undefined || e.toDomain(b)));
}

/** Whether a path shape (agent types from the root agent down) is allowed. */
export function pathAllowed(list: Allowlist, types: readonly string[]): boolean {
  return list.entries.some((e) => e.path !== undefined && matchPath(e.path, e.pathAny ?? [], types));
}

/** Wildcard matching by dynamic programming (linear in pattern × path, whatever the `**`s). */
function matchPath(pats: Matcher[], any: boolean[], types: readonly string[]): boolean {
  // ok[t]: the patterns so far match the first t types.
  let ok = types.map(() => false).concat(false);
  ok[0] = true;
  for (let p = 0; p < pats.length; p++) {
    const next = ok.map(() => false);
    for (let t = 0; t <= types.length; t++) {
      if (any[p]) next[t] = ok[t] || (t > 0 && next[t - 1] === true);
      else next[t] = t > 0 && ok[t - 1] === true && (pats[p] as Matcher)(types[t - 1] as string);
    }
    ok = next;
  }
  return ok[types.length] === true;
}

/**
 * Parses allowlist YAML. Problems are collected; a bad entry is left out
 * (so what it meant to allow still alerts: the allowlist fails closed).
 */
export function parseAllowlist(text: string, file: string, problems: string[]): Allowlist {
  if (Buffer.byteLength(text, 'utf8') > MAX_ALLOWLIST_BYTES) {
    problems.push(`${file}: larger than ${MAX_ALLOWLIST_BYTES} bytes`);
    return EMPTY_ALLOWLIST;
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    problems.push(...doc.errors.map((e) => `${file}: ${e.message}`));
    return EMPTY_ALLOWLIST;
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 50 });
  } catch (e) {
    problems.push(`${file}: ${(e as Error).message}`);
    return EMPTY_ALLOWLIST;
  }
  if (value === null || value === undefined) return EMPTY_ALLOWLIST;
  const root = value as { allow?: unknown };
  if (typeof value !== 'object' || Array.isArray(value) || Object.keys(value).some((k) => k !== 'allow') || (root.allow !== undefined && root.allow !== null && !Array.isArray(root.allow))) {
    problems.push(`${file}: must be a mapping with one key, "allow", holding a list of entries`);
    return EMPTY_ALLOWLIST;
  }
  const entries: AllowEntry[] = [];
  ((root.allow ?? []) as unknown[]).forEach((raw, i) => {
    const entry = parseEntry(raw, `${file}: allow[${i}]`, problems);
    if (entry) entries.push(entry);
  });
  return { entries };
}

const ENTRY_FIELDS = ['from', 'to', 'from_domain', 'to_domain', 'path'];

function parseEntry(raw: unknown, at: string, problems: string[]): AllowEntry | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push(`${at}: must be a mapping of ${ENTRY_FIELDS.join(', ')}`);
    return undefined;
  }
  const f = raw as Record<string, unknown>;
  const bad = Object.keys(f).filter((k) => !ENTRY_FIELDS.includes(k));
  if (bad.length > 0) {
    problems.push(`${at}: unknown field ${bad.map((k) => JSON.stringify(k)).join(', ')} (entry ignored)`);
    return undefined;
  }
  const names = Object.keys(f).filter((k) => f[k] !== undefined && f[k] !== null);
  if (names.length === 0) {
    problems.push(`${at}: names nothing (an entry allowing everything is refused)`);
    return undefined;
  }
  if (f.path !== undefined && names.length > 1) {
    problems.push(`${at}: "path" stands alone (entry ignored)`);
    return undefined;
  }
  const entry: AllowEntry = { at };
  let ok = true;
  const glob = (key: string, seps: string): Matcher | undefined => {
    const v = f[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || v === '' || v.length > MAX_PATTERN || /^\*+$/.test(v)) {
      problems.push(`${at}.${key}: must be a non-empty pattern that names something (entry ignored)`);
      ok = false;
      return undefined;
    }
    return globMatcher(v, seps);
  };
  if (f.path !== undefined) {
    if (!Array.isArray(f.path) || f.path.length === 0 || f.path.every((p) => p === '**') || !f.path.every((p) => typeof p === 'string' && p !== '' && p.length <= MAX_PATTERN)) {
      problems.push(`${at}.path: must be a list of agent type patterns ("**" for any number of types), naming at least one (entry ignored)`);
      return undefined;
    }
    const path = f.path as string[];
    entry.path = path.map((p) => globMatcher(p, '/'));
    entry.pathAny = path.map((p) => p === '**');
    return entry;
  }
  const from = glob('from', '/');
  const to = glob('to', '/');
  const fromDomain = glob('from_domain', '.');
  const toDomain = glob('to_domain', '.');
  if (!ok) return undefined;
  if (from) entry.from = from;
  if (to) entry.to = to;
  if (fromDomain) entry.fromDomain = fromDomain;
  if (toDomain) entry.toDomain = toDomain;
  return entry;
}
