/**
 * Building engine inputs from what the verifier produced: a chain's check
 * (its decoded links), the span's approvals, and the span itself. Tokens
 * never enter an input, only their hashes, so inputs can be logged.
 */
import type { ChainCheck } from '../model/delegation.js';
import type { AgentSpan } from '../model/span.js';
import type { ActionPolicyInput, ChainPolicyInput, PolicyApproval } from './types.js';

/** Span attribute carrying approval tokens: an array of compact JWS, any order. */
export const APPROVALS_ATTRIBUTE = 'chainsight.delegation.approvals';

/**
 * The approval tokens of a span whose decoder kept the attribute as JSON text
 * (how src/ingest stores attributes it does not lift out). Anything that is
 * not a JSON array of strings yields no approvals, which fails closed.
 */
export function approvalTokensOf(span: Pick<AgentSpan, 'attributes'>): string[] {
  const text = span.attributes[APPROVALS_ATTRIBUTE];
  if (text === undefined || text.length === 0) return [];
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.filter((t): t is string => typeof t === 'string').slice(0, 64) : [];
  } catch {
    return [];
  }
}

/** Inputs of chains without approvals, shared by every span of the chain (checks are frozen and cached). */
const shared = new WeakMap<ChainCheck, ChainPolicyInput>();

/** A chain's input: `depth` is how many links the span carried. The result is shared: do not mutate it. */
export function chainInput(check: ChainCheck, depth: number, approvals: readonly PolicyApproval[]): ChainPolicyInput {
  if (approvals.length === 0) {
    const hit = shared.get(check);
    if (hit !== undefined && hit.depth === depth) return hit;
    const made = build(check, depth, []);
    shared.set(check, made);
    return made;
  }
  return build(check, depth, approvals);
}

function build(check: ChainCheck, depth: number, approvals: readonly PolicyApproval[]): ChainPolicyInput {
  return {
    depth,
    links: check.links.map((l) => ({
      iss: l.claims.iss,
      sub: l.claims.sub,
      scope: l.claims.scope,
      iat: l.claims.iat,
      nbf: l.claims.nbf,
      exp: l.claims.exp,
      hash: l.hash,
      trustDomain: l.trustDomain,
    })),
    approvals: [...approvals],
  };
}

/** An action's input: the chain's plus the acting agent, used scopes and time. */
export function actionInput(chain: ChainPolicyInput, span: Pick<AgentSpan, 'agentId' | 'scopesUsed' | 'startMs'>): ActionPolicyInput {
  return { ...chain, action: { agent: span.agentId, scopes: span.scopesUsed, atMs: span.startMs } };
}
