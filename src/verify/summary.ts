/** The stored summary of a chain: who authorized what, through whom. */
import type { ChainCheck, ChainSummary } from '../model/delegation.js';

export function summarize(check: ChainCheck): ChainSummary {
  const links = check.links;
  const root = links[0]?.claims;
  const last = links[links.length - 1]?.claims;
  return {
    rootHuman: root?.iss ?? '',
    rootIssuedAtMs: root ? root.iat * 1000 : 0,
    purpose: root?.purpose ?? '',
    depth: links.length,
    path: root ? [root.iss, ...links.map((l) => l.claims.sub)] : [],
    delegator: last?.iss ?? '',
    grantedScopes: last ? [...last.scope] : [],
    linkHashes: links.map((l) => l.hash),
    evidence: links.length === 0 ? '' : (check.evidence ?? 'signed-links'),
  };
}
