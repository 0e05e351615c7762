/**
 * An agent's type: its SPIFFE ID without the instance part, so the instances
 * of one agent share their edges. By default chainsight's own convention
 * (`spiffe://<td>/agent/<name>[/<instance>…]` → `spiffe://<td>/agent/<name>`);
 * configured patterns (the policy's `/agent/{type}/*` form) say where the type
 * segment sits in other layouts. An ID that is no SPIFFE ID, or that neither
 * reads, is its own type: it never borrows another agent's history.
 */
import { compilePattern, matches, parseSpiffe, type CompiledPattern } from '../../policy/spiffe-type.js';
import type { TypePattern } from '../../policy/types.js';

const KIND_SEGMENTS = new Set(['agent', 'agents']);
const PATTERN_SEGMENT = /^(?:[A-Za-z0-9._-]+|\{type\}|\*)$/;

export interface AgentTyping {
  patterns: readonly CompiledPattern[];
}

export const CONVENTION: AgentTyping = { patterns: [] };

/** The type of an agent ID (a prefix of it), and its trust domain ('' when it is no SPIFFE ID). */
export function agentTypeOf(id: string, typing: AgentTyping): { type: string; domain: string } {
  const parts = parseSpiffe(id);
  if (parts === undefined) return { type: id, domain: '' };
  const keep = (n: number) => ({ type: `spiffe://${parts.trustDomain}/${parts.segments.slice(0, n).join('/')}`, domain: parts.trustDomain });
  for (const p of typing.patterns) if (matches(p, parts)) return keep(p.typeIndex + 1);
  if (parts.segments.length > 1 && KIND_SEGMENTS.has(parts.segments[0] as string)) return keep(2);
  return { type: id, domain: parts.trustDomain };
}

/** Reads `agent_types: [{ path, trust_domain? }]`; a bad entry is reported and skipped. */
export function parseAgentTyping(raw: unknown, at: string, problems: string[]): AgentTyping {
  if (raw === undefined || raw === null) return CONVENTION;
  if (!Array.isArray(raw)) {
    problems.push(`${at}: must be a list of { path, trust_domain? }`);
    return CONVENTION;
  }
  const patterns: CompiledPattern[] = [];
  raw.forEach((entry: unknown, i) => {
    const where = `${at}/${i}`;
    const e = (typeof entry === 'object' && entry !== null ? entry : {}) as { path?: unknown; trust_domain?: unknown };
    const path = e.path;
    const segments = typeof path === 'string' && path.startsWith('/') ? path.slice(1).split('/') : [];
    if (segments.length === 0 || !segments.every((s) => PATTERN_SEGMENT.test(s)) || segments.filter((s) => s === '{type}').length !== 1) {
      problems.push(`${where}/path: must be "/"-separated segments (a literal, "*" or one "{type}"), e.g. "/agent/{type}/*"`);
      return;
    }
    if (e.trust_domain !== undefined && (typeof e.trust_domain !== 'string' || !/^[a-z0-9._-]+$/.test(e.trust_domain))) {
      problems.push(`${where}/trust_domain: must be a trust domain name`);
      return;
    }
    const pattern: TypePattern = { path: path as string, ...(e.trust_domain !== undefined ? { trustDomain: e.trust_domain as string } : {}) };
    patterns.push(compilePattern(pattern));
  });
  return { patterns };
}
