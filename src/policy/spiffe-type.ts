/**
 * Agent types from SPIFFE IDs through configured path patterns.
 *
 * Parsing is strict and byte-exact, because a look-alike ID must never borrow
 * another type: the trust domain is lower-case `[a-z0-9._-]`, every path
 * segment is `[A-Za-z0-9._-]+` (so no percent-encoding, no Unicode, no empty
 * segment, no trailing slash), `.` and `..` are refused, nothing is decoded or
 * normalised, and literal segments compare case-sensitively. An ID that fails
 * to parse or that no pattern matches has no type, and the policy denies it.
 */
import type { TypePattern } from './types.js';

const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
const SEGMENT = /^[A-Za-z0-9._-]+$/;
const PREFIX = 'spiffe://';

export interface SpiffeParts {
  trustDomain: string;
  segments: string[];
}

/** The trust domain and path segments of a workload SPIFFE ID, or undefined. */
export function parseSpiffe(id: string): SpiffeParts | undefined {
  if (typeof id !== 'string' || id.length > 2048 || !id.startsWith(PREFIX)) return undefined;
  const rest = id.slice(PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  const trustDomain = rest.slice(0, slash);
  if (trustDomain.length > 255 || !TRUST_DOMAIN.test(trustDomain)) return undefined;
  const segments = rest.slice(slash + 1).split('/');
  for (const s of segments) if (!SEGMENT.test(s) || s === '.' || s === '..') return undefined;
  return { trustDomain, segments };
}

/** A pattern ready to match: `{type}`'s position and the other segments. */
export interface CompiledPattern {
  /** '' for any trust domain. */
  trustDomain: string;
  /** Segments as written: a literal, `{type}` or `*`. */
  segments: string[];
  typeIndex: number;
}

export function compilePattern(p: TypePattern): CompiledPattern {
  const segments = p.path.slice(1).split('/');
  return { trustDomain: p.trustDomain ?? '', segments, typeIndex: segments.indexOf('{type}') };
}

export function matches(p: CompiledPattern, id: SpiffeParts): boolean {
  if (p.trustDomain !== '' && p.trustDomain !== id.trustDomain) return false;
  if (p.segments.length !== id.segments.length) return false;
  for (let i = 0; i < p.segments.length; i++) {
    const want = p.segments[i] as string;
    if (want !== '{type}' && want !== '*' && want !== id.segments[i]) return false;
  }
  return true;
}

/** The type the first matching pattern captures, or undefined (no parse, no match). */
export function agentTypeOf(id: string, patterns: readonly CompiledPattern[]): string | undefined {
  const parts = parseSpiffe(id);
  if (parts === undefined) return undefined;
  for (const p of patterns) if (matches(p, parts)) return parts.segments[p.typeIndex];
  return undefined;
}
