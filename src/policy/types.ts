/**
 * The policy engine's domain types: the policy file as written, the inputs the
 * engine judges (built from a verified chain and a span), and its decisions.
 * Specified in schemas/policy.md; the file's shape in schemas/policy.schema.json.
 */

/** How an agent's type is read from its SPIFFE ID path, e.g. `/agent/{type}/{instance}`. */
export interface TypePattern {
  /** Only IDs of this trust domain; absent: any trust domain. */
  trustDomain?: string;
  /** Slash-separated segments: a literal, `{type}` (captured) or `*` (any one segment). */
  path: string;
}

export interface DepthRule {
  id: string;
  max: number;
  /** Only chains whose first agent (the root link's delegatee) has this type. */
  rootAgentType?: string;
  /** Only chains with a delegatee in this trust domain. */
  trustDomain?: string;
}

export interface LifetimeRule {
  id: string;
  /** Longest `exp − iat` of a link the rule applies to, in seconds. */
  maxSec: number;
  /** Only links carrying a scope that overlaps one of these selectors. */
  scopes?: string[];
  /** Only links at this depth or deeper (the root link is depth 1). */
  fromDepth?: number;
}

export interface TypeRule {
  id: string;
  /** Delegatee types the rule guards. */
  to: string[];
  /** The only delegator types that may delegate to them (`human` is the root's issuer). */
  from: string[];
}

export interface CrossDomainRule {
  id: string;
  from: string;
  to: string;
  /** Delegator types allowed to cross; absent: any known type. */
  delegatorTypes?: string[];
  /** Delegatee types allowed to receive; absent: any known type. */
  delegateeTypes?: string[];
  /** Every scope of a crossing link must be covered by one of these. */
  maxScope: string[];
}

export interface ApprovalRule {
  id: string;
  /** Sensitive scope selectors (compared ignoring ASCII case, so look-alikes count as sensitive). */
  scopes: string[];
}

/** The policy file, as validated against schemas/policy.schema.json (defaults not yet applied). */
export interface PolicyDocument {
  version: string;
  agentTypes: { id: string; patterns: TypePattern[]; types: string[] };
  depth?: DepthRule[];
  scopes?: {
    id: string;
    implications?: Record<string, string[]>;
    wildcards?: { id: string; allowed: boolean; minPrefixLength?: number };
  };
  lifetime?: LifetimeRule[];
  delegation?: TypeRule[];
  crossDomain?: { id: string; allow?: CrossDomainRule[] };
  approval?: ApprovalRule[];
}

/** A link as the policy sees it: claims of a verified link plus its identity. */
export interface PolicyLink {
  iss: string;
  sub: string;
  scope: string[];
  iat: number;
  nbf: number;
  exp: number;
  /** base64url SHA-256 of the link's compact JWS (what an approval binds to). */
  hash: string;
  /** Trust domain whose bundle verified the link's signature. */
  trustDomain: string;
}

/** An approval token after its signature check (see approval.ts). */
export interface PolicyApproval {
  /** base64url SHA-256 of the approval's compact JWS. */
  hash: string;
  /** Whether the signature verified with an authorization key of the approved link's trust domain. */
  verified: boolean;
  /** Why it did not verify (empty when it did). */
  error: string;
  /** Hash of the link it approves (`lnk`). */
  linkHash: string;
  approver: string;
  scope: string[];
  iat: number;
  exp: number;
}

export interface ChainPolicyInput {
  /** Number of links the span carried (may exceed `links` when some did not decode). */
  depth: number;
  links: PolicyLink[];
  approvals: PolicyApproval[];
}

export interface ActionPolicyInput extends ChainPolicyInput {
  action: {
    /** The acting agent (`gen_ai.agent.id`). */
    agent: string;
    /** Scopes the action used (`chainsight.scope.used`). */
    scopes: string[];
    /** The action's start time, ms since the epoch. */
    atMs: number;
  };
}

/** A violated rule: code `policy.<rule id>`, the link it concerns (root = 0), why. */
export interface PolicyReason {
  code: `policy.${string}`;
  rule: string;
  link?: number;
  message: string;
}

export type PolicyResult = 'allow' | 'deny';

export interface PolicyDecision {
  result: PolicyResult;
  /** Ids of the rules that applied to this input (sorted): "under which rules was this allowed". */
  rules: string[];
  /** Every violation; empty exactly when the result is allow. */
  reasons: PolicyReason[];
  /** The policy file's `version`. */
  policyVersion: string;
  /** Content hash of the policy (the bundle revision). */
  revision: string;
}

/** Rule ids the engines themselves use (user rule ids may not start with `input.` or `engine.`). */
export const INPUT_INVALID = 'input.invalid';
export const INPUT_INCOMPLETE = 'input.incomplete';
/** The OPA engine could not answer (fail closed). */
export const ENGINE_UNAVAILABLE = 'engine.unavailable';
/** The agent type a root link's (human) issuer has. */
export const HUMAN_TYPE = 'human';
