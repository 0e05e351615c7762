import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { isTrustDomainName } from '../verify/spiffe.js';
import { ApiProblem } from './problem.js';
import { openJwks, type JwksSource } from './jwks.js';

/** What a caller may do: each role includes the ones before it. */
export const ROLES = ['viewer', 'responder', 'admin'] as const;
export type Role = (typeof ROLES)[number];
/** What a route needs: nothing, or at least a role. */
export type Access = 'open' | Role;

/**
 * Whose rows a route answers with. `own`: only the caller's trust domains'
 * (lists leave the rest out, single resources answer 404). `every`: rows of
 * every trust domain at once, or an action whose effect crosses them (a
 * revoked key or agent fails chains of any tenant), so only a token for every
 * tenant (`*`) may use it.
 */
export type Tenancy = 'own' | 'every';

/** Asymmetric algorithms only: an HMAC key would have to be shared with every verifier. */
export const DEFAULT_AUTH_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
export const ALLOWED_AUTH_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;

export interface AuthSettings {
  issuer: string;
  audience: string;
  jwks: JwksSource;
  algorithms: string[];
  /** Claim holding the trust domains the caller may see (an array of names; `*` for all). */
  tenantsClaim: string;
  /** Claim holding the role (a string, or an array of which the highest known role counts). */
  roleClaim: string;
  clockSkewSec: number;
}

/** Who is asking, and what they may see. */
export interface Principal {
  subject: string;
  role: Role | null;
  /** Trust domains whose rows the caller sees; 'all' for every one. */
  tenants: string[] | 'all';
  /** True when the API runs without authentication. */
  anonymous: boolean;
}

/** The caller when the API runs open (loopback default, or the explicit insecure override). */
export const OPEN_PRINCIPAL: Principal = Object.freeze({ subject: 'anonymous', role: 'admin', tenants: 'all', anonymous: true }) as Principal;

const REALM = 'Bearer realm="chainsight"';
const MAX_TOKEN_CHARS = 16 * 1024;

function unauthenticated(description?: string): ApiProblem {
  // RFC 6750 §3: no error code when no credentials came; invalid_token with a reason otherwise.
  const header = description === undefined ? REALM : `${REALM}, error="invalid_token", error_description="${description}"`;
  return new ApiProblem('unauthenticated', description === undefined ? 'a bearer token is required' : `invalid token: ${description}`, { 'WWW-Authenticate': header });
}

/** The principal a verified token's claims describe: unknown roles and malformed tenants count for nothing. */
export function principalFromClaims(payload: JWTPayload, settings: Pick<AuthSettings, 'tenantsClaim' | 'roleClaim'>): Principal {
  const rawRole = payload[settings.roleClaim];
  const roles = (Array.isArray(rawRole) ? rawRole : [rawRole]).filter((r): r is Role => typeof r === 'string' && (ROLES as readonly string[]).includes(r));
  const role = roles.length === 0 ? null : ROLES[Math.max(...roles.map((r) => ROLES.indexOf(r)))]!;
  const rawTenants = payload[settings.tenantsClaim];
  const list = Array.isArray(rawTenants) ? rawTenants.filter((t): t is string => typeof t === 'string') : [];
  const tenants = list.includes('*') ? 'all' : [...new Set(list.filter(isTrustDomainName))];
  return { subject: typeof payload.sub === 'string' ? payload.sub : '', role, tenants, anonymous: false };
}

/** Whether `principal` may use a route needing `access` over `tenancy`; throws the answer when not. */
export function authorize(principal: Principal, access: Access, tenancy: Tenancy = 'own'): void {
  if (access === 'open') return;
  if (principal.role === null) throw new ApiProblem('forbidden', 'the token carries no chainsight role');
  if (ROLES.indexOf(principal.role) < ROLES.indexOf(access)) throw new ApiProblem('forbidden', `this route needs the ${access} role`);
  if (tenancy === 'every' && principal.tenants !== 'all') {
    throw new ApiProblem('forbidden', 'this route answers across trust domains: it needs a token for every tenant (*)');
  }
}

/** Authenticates a request and authorizes it for a route; answers with the caller. */
export type RouteGuard = (req: { headers: { authorization?: string | undefined } }, access: Access, tenancy?: Tenancy) => Promise<Principal>;

/** The guard of every router: bearer tokens through `auth`, or, without it, every caller an anonymous admin of every tenant. */
export function routeGuard(auth: Authenticator | undefined): RouteGuard {
  return async (req, access, tenancy = 'own') => {
    const principal = access === 'open' || auth === undefined ? OPEN_PRINCIPAL : await auth.authenticate(req.headers.authorization);
    authorize(principal, access, tenancy);
    return principal;
  };
}

/** Errors that say the token is bad (401); anything else is the key source failing (503, fail closed). */
const TOKEN_ERRORS: Record<string, string> = {
  [errors.JWTExpired.code]: 'token expired',
  [errors.JOSEAlgNotAllowed.code]: 'algorithm not allowed',
  [errors.JWSSignatureVerificationFailed.code]: 'signature verification failed',
  [errors.JWKSNoMatchingKey.code]: 'no key of the issuer matches the token',
  [errors.JWKSMultipleMatchingKeys.code]: 'several keys match the token; it must name its kid',
  [errors.JWSInvalid.code]: 'malformed token',
  [errors.JWTInvalid.code]: 'malformed token',
  [errors.JOSENotSupported.code]: 'unsupported token',
};

/** Verifies bearer JWTs from one issuer against its key set. */
export class Authenticator {
  private readonly keys: JWTVerifyGetKey;

  constructor(readonly settings: AuthSettings, keys?: JWTVerifyGetKey) {
    this.keys = keys ?? openJwks(settings.jwks);
  }

  /** The principal of an Authorization header, or an ApiProblem (401, or 503 when the keys cannot be had). */
  async authenticate(header: string | undefined): Promise<Principal> {
    if (header === undefined || header === '') throw unauthenticated();
    const m = /^Bearer[ ]+([A-Za-z0-9._~+/-]+=*)$/i.exec(header);
    if (!m || m[1]!.length > MAX_TOKEN_CHARS) throw unauthenticated('malformed Authorization header');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(m[1]!, this.keys, {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        algorithms: this.settings.algorithms,
        clockTolerance: this.settings.clockSkewSec,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (err instanceof errors.JWTClaimValidationFailed) throw unauthenticated(`${err.claim} claim check failed`);
      const reason = TOKEN_ERRORS[code];
      if (reason !== undefined) throw unauthenticated(reason);
      throw new AuthUnavailable(err);
    }
    return principalFromClaims(payload, this.settings);
  }
}

/** The issuer's keys could not be fetched: no one is let in, and the cause is logged. */
export class AuthUnavailable extends Error {
  constructor(override readonly cause: unknown) {
    super('identity provider keys unavailable');
  }
}

/** The tenant restriction a query takes: undefined for all trust domains. */
export function trustDomainsOf(p: Principal): string[] | undefined {
  return p.tenants === 'all' ? undefined : p.tenants;
}
