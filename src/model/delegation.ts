/**
 * One delegation link: the claims of a compact JWS signed by the delegator.
 * Specified in schemas/delegation-token.md and schemas/delegation-token.schema.json.
 */
export interface LinkClaims {
  /** Delegator: a human account (root link) or an agent's SPIFFE ID. */
  iss: string;
  /** Delegatee: always an agent's SPIFFE ID. */
  sub: string;
  /** Granted scope; must be covered by the parent link's scope. */
  scope: string[];
  iat: number; // seconds
  nbf: number; // seconds
  exp: number; // seconds
  /** Unique id of this link. */
  jti: string;
  /** The task this delegation is for. */
  task: string;
  /** base64url(SHA-256(parent compact JWS)); absent on the root link only. */
  prf?: string;
  /** Human-readable purpose, set on the root link (e.g. "quarterly infrastructure review"). */
  purpose?: string;
}

/** A link whose signature and claims have been checked (time-independent checks only). */
export interface VerifiedLink {
  /** base64url(SHA-256(compact JWS)): the link's identity and cache key. */
  hash: string;
  claims: LinkClaims;
  kid: string;
  alg: string;
  trustDomain: string;
}

/**
 * The time-independent result of checking a whole chain: signatures, parent
 * binding, principal alignment, permission diminishment, depth. Cached by the
 * chain's hash; time and span checks run per span on top of it.
 */
export interface ChainCheck {
  /** Links that decoded, in chain order (root first); may be shorter than the chain on failure. */
  links: VerifiedLink[];
  /** Structural reasons; empty when the chain is sound. */
  reasons: import('./verdict.js').Reason[];
  /** How the hops are evidenced; absent means one signed link per hop. */
  evidence?: Evidence;
}

/**
 * What vouches for the hops of a chain: `signed-links`, each hop signed by its
 * delegator (§4); `sts-token`, one token-exchange token signed by the trust
 * domain's STS whose intermediate hops nobody else signed (§11): weaker evidence.
 */
export type Evidence = 'signed-links' | 'sts-token';

/** Summary of a chain as stored with an action. */
export interface ChainSummary {
  rootHuman: string;
  /** Root link's iat in ms: "the time of the request". */
  rootIssuedAtMs: number;
  purpose: string;
  depth: number; // number of links
  /** Principals from the human to the last delegatee. */
  path: string[];
  delegator: string; // issuer of the last link
  grantedScopes: string[]; // scope of the last link
  linkHashes: string[];
  /** How the hops are evidenced; '' when no link decoded. */
  evidence: Evidence | '';
}
