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
