/** Delegation-chain verification: public surface. */
export { ChainVerifier, chainKey, type ChainVerifierOptions, type VerifierStats, type SpanDetail } from './chain-verifier.js';
export { TrustStore, TrustStoreError, AUTHORIZATION_ROLE, BUNDLE_SUFFIX, type TrustedKey, type Jwks, type ChainsightJwk } from './trust-store.js';
export { defaultPolicy, policyFromJson, PolicyError, SUPPORTED_ALGORITHMS, type VerifyPolicy, type SignatureAlgorithm } from './policy.js';
export { ScopeMatcher, covers, isSubset, patternCovers, type ImplicationMap } from './scope.js';
export { parseToken, tokenHash, TOKEN_TYPE, type ParsedToken } from './token.js';
export { validateClaimsSchema, claimRuleErrors, loadClaimsSchema } from './claims.js';
export { summarize } from './summary.js';
export { trustDomainOf, isSpiffeId, agentNameFromId } from './spiffe.js';
export { operationKind, WELL_KNOWN_OPERATIONS, SCOPED_OPERATIONS, type OperationKind } from './operation.js';
