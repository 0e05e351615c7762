/**
 * The outcome of verifying one action's delegation chain. A Verdict is never a
 * bare boolean: every failure names the rule it broke and, where it applies,
 * the link (0 = root) that broke it.
 */
export type ReasonCode =
  // the chain as carried on the span
  | 'chain.missing'
  | 'chain.malformed'
  | 'chain.too_deep'
  // one token
  | 'token.too_large'
  | 'token.malformed'
  | 'token.claims_invalid'
  // signatures and keys (verifiable provenance)
  | 'signature.algorithm_forbidden'
  | 'signature.unknown_trust_domain'
  | 'signature.unknown_key'
  | 'signature.key_not_bound'
  | 'signature.algorithm_mismatch'
  | 'signature.certificate_invalid'
  | 'signature.invalid'
  // how links fit together
  | 'chain.root_invalid'
  | 'chain.parent_mismatch'
  | 'chain.principal_misaligned'
  | 'chain.task_mismatch'
  // permission diminishment
  | 'scope.escalated'
  | 'scope.exceeded'
  | 'scope.undeclared'
  // temporal boundaries
  | 'time.not_yet_valid'
  | 'time.expired'
  | 'time.outlives_parent'
  | 'time.lifetime_exceeded'
  // the span against its chain
  | 'agent.missing'
  | 'agent.mismatch'
  | 'task.missing'
  | 'task.mismatch'
  // what the span must say about itself to be judged
  | 'span.operation_missing'
  | 'span.operation_malformed'
  | 'span.start_missing'
  // the span itself, as decoded
  | 'span.time_out_of_range'
  // a rule of the policy engine (schemas/policy.md): `policy.<rule id>`
  | `policy.${string}`
  // the span's start against when it was received (src/verify/received-time.ts)
  | 'time.start_in_future'
  | 'time.start_too_old'
  // a revocation covering the chain (src/revoke/)
  | 'revoked.link'
  | 'revoked.agent'
  | 'revoked.key'
  // who sent the span against who it says it is (src/verify/emitter-auth.ts)
  | 'agent.not_sender'
  | 'agent.unauthenticated';

export interface Reason {
  code: ReasonCode;
  /** Index of the offending link, root = 0; absent for span-level reasons. */
  link?: number;
  message: string;
}

export type VerdictStatus = 'verified' | 'failed';

export interface Verdict {
  status: VerdictStatus;
  reasons: Reason[];
}

export const VERIFIED: Verdict = Object.freeze({ status: 'verified', reasons: Object.freeze([]) as unknown as Reason[] });

export function failed(reasons: Reason[]): Verdict {
  return { status: 'failed', reasons };
}

export function verdictOf(reasons: Reason[]): Verdict {
  return reasons.length === 0 ? VERIFIED : failed(reasons);
}
