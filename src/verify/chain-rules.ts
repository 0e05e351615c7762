/**
 * How links fit together: parent hash, principal alignment, one task,
 * permission diminishment, lifetimes nested in the parent's. Pure: takes the
 * per-link results and returns the chain's reasons with link indexes.
 */
import type { ChainCheck, VerifiedLink } from '../model/delegation.js';
import type { ChainFault } from '../model/span.js';
import type { Reason } from '../model/verdict.js';
import type { LinkResult } from './link-check.js';
import type { ScopeMatcher } from './scope.js';

/**
 * Assemble a ChainCheck from per-link results (one per checked token, root
 * first). `depth` is the number of tokens on the span, which may exceed the
 * checked ones when the chain is too deep.
 */
export function assembleChain(results: readonly LinkResult[], depth: number, maxDepth: number, scopes: ScopeMatcher): ChainCheck {
  const reasons: Reason[] = [];
  if (depth === 0) {
    reasons.push({ code: 'chain.missing', message: 'delegation chain is empty' });
    return { links: [], reasons };
  }
  if (depth > maxDepth) {
    reasons.push({ code: 'chain.too_deep', link: maxDepth, message: `chain has ${depth} links, limit ${maxDepth}; links from ${maxDepth} on were not checked` });
  }
  results.forEach((r, i) => {
    for (const x of r.reasons) reasons.push({ code: x.code, link: i, message: x.message });
  });

  const root = results[0]?.link;
  for (let i = 1; i < results.length; i++) {
    const prev = results[i - 1] as LinkResult;
    const cur = (results[i] as LinkResult).link;
    if (cur === undefined) continue;
    const c = cur.claims;
    // The parent's hash is known even when the parent did not decode.
    if (c.prf === undefined) reasons.push({ code: 'chain.parent_mismatch', link: i, message: 'link has no prf (only the root may omit it)' });
    else if (c.prf !== prev.hash) reasons.push({ code: 'chain.parent_mismatch', link: i, message: `prf ${c.prf} is not the hash of link ${i - 1} (${prev.hash})` });
    if (root !== undefined && c.task !== root.claims.task) {
      reasons.push({ code: 'chain.task_mismatch', link: i, message: `task ${JSON.stringify(c.task)} differs from the root's ${JSON.stringify(root.claims.task)}` });
    }
    const p = prev.link?.claims;
    if (p === undefined) continue; // nothing sound to compare with
    if (c.iss !== p.sub) reasons.push({ code: 'chain.principal_misaligned', link: i, message: `issuer ${c.iss} is not the previous delegatee ${p.sub}` });
    const extra = scopes.uncovered(c.scope, p.scope);
    if (extra.length > 0) reasons.push({ code: 'scope.escalated', link: i, message: `scope ${extra.join(', ')} not covered by the parent's scope` });
    if (c.exp > p.exp) reasons.push({ code: 'time.outlives_parent', link: i, message: `exp ${c.exp} is after the parent's exp ${p.exp}` });
  }

  // Links that decoded, in order, up to the first that did not.
  const links: VerifiedLink[] = [];
  for (const r of results) {
    if (r.link === undefined) break;
    links.push(r.link);
  }
  return { links, reasons };
}

/**
 * The reason for a chain that ingest did not keep, as the verifier would
 * have given it had the chain been kept: a fault at or past link `maxDepth`
 * means the chain is longer than the policy allows, and links past that
 * limit are never looked at (§4.1), so it is `chain.too_deep` at `maxDepth`.
 */
export function chainFaultReason(fault: ChainFault, maxDepth: number): Reason {
  if (fault.link !== undefined && fault.link >= maxDepth) {
    return { code: 'chain.too_deep', link: maxDepth, message: `chain has more than ${maxDepth} links; ${fault.message}` };
  }
  return fault;
}
