/**
 * SPIFFE ID helpers. A SPIFFE ID is `spiffe://<trust-domain>/<path>`; the
 * trust domain picks the key bundle, so its parsing must be exact.
 */

const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
const SEGMENT = /^[A-Za-z0-9._-]+$/;
const PREFIX = 'spiffe://';

export function isSpiffeId(s: string): boolean {
  return trustDomainOf(s) !== undefined;
}

/** The trust domain of a workload SPIFFE ID (one with a path), or undefined when `s` is not one. */
export function trustDomainOf(s: string): string | undefined {
  if (!s.startsWith(PREFIX) || s.length > 2048) return undefined;
  const rest = s.slice(PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  const td = rest.slice(0, slash);
  if (!TRUST_DOMAIN.test(td)) return undefined;
  for (const seg of rest.slice(slash + 1).split('/')) {
    if (!SEGMENT.test(seg) || seg === '.' || seg === '..') return undefined;
  }
  return td;
}

export function isTrustDomainName(s: string): boolean {
  return s.length > 0 && s.length <= 255 && TRUST_DOMAIN.test(s);
}

/** A first path segment that says "an agent follows" rather than naming one. */
const KIND_SEGMENTS = new Set(['agent', 'agents']);

/**
 * A readable name for an agent that reports no `gen_ai.agent.name`, from its
 * SPIFFE ID. chainsight's IDs read `spiffe://<td>/agent/<name>[/<instance>…]`:
 * the name is the segment after `agent` (instances of one agent share it, as
 * they share `gen_ai.agent.name`). Any other path: its last segment
 * (`…/ns/prod/sa/planner` → `planner`). Not a SPIFFE ID: shown as is.
 */
export function agentNameFromId(agentId: string): string {
  if (trustDomainOf(agentId) === undefined) return agentId;
  const path = agentId.slice(PREFIX.length).split('/').slice(1);
  if (path.length > 1 && KIND_SEGMENTS.has(path[0] as string)) return path[1] as string;
  return path[path.length - 1] as string;
}
