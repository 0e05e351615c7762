import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ALLOWED_AUTH_ALGORITHMS, DEFAULT_AUTH_ALGORITHMS, type AuthSettings } from '../serve/auth.js';
import { MIN_CURSOR_KEY_BYTES } from '../serve/pagination.js';
import type { EnvReader } from './env.js';

/** Who may use the analyst API, and how its cursors are signed. */
export interface ApiAccessConfig {
  /** Bearer JWT verification; undefined: the API runs open (allowed on loopback, or with `insecure`). */
  auth: AuthSettings | undefined;
  /** CHAINSIGHT_API_INSECURE=true: run open on a non-loopback address anyway. */
  insecure: boolean;
  /** Key for pagination cursors, so they survive restarts and work across replicas; random per process otherwise. */
  cursorKey: Buffer | undefined;
  /** A static bearer secret /metrics accepts besides an admin token (CHAINSIGHT_METRICS_TOKEN_FILE). */
  metricsToken: string | undefined;
}

const MIN_METRICS_TOKEN_CHARS = 32;

/** The CHAINSIGHT_AUTH_* and CHAINSIGHT_API_* variables; problems go to the reader's list. */
export function readApiAccess(e: EnvReader): ApiAccessConfig {
  const issuer = e.string('CHAINSIGHT_AUTH_ISSUER');
  const audience = e.string('CHAINSIGHT_AUTH_AUDIENCE');
  const jwksUrl = e.url('CHAINSIGHT_AUTH_JWKS_URL');
  const jwksFile = e.string('CHAINSIGHT_AUTH_JWKS_FILE');
  const caFile = e.string('CHAINSIGHT_AUTH_CA_FILE');
  const algs = e.string('CHAINSIGHT_AUTH_ALGORITHMS');
  const tenantsClaim = e.string('CHAINSIGHT_AUTH_TENANTS_CLAIM') ?? 'chainsight_tenants';
  const roleClaim = e.string('CHAINSIGHT_AUTH_ROLE_CLAIM') ?? 'chainsight_role';
  const clockSkewSec = e.int('CHAINSIGHT_AUTH_CLOCK_SKEW_SEC', 60, 0, 600);
  const insecure = e.oneOf('CHAINSIGHT_API_INSECURE', ['true', 'false'] as const, 'false') === 'true';
  const cursorKey = readCursorKey(e);
  const metricsToken = readMetricsToken(e);

  const algorithms = algs === undefined ? [...DEFAULT_AUTH_ALGORITHMS] : algs.split(',').map((a) => a.trim()).filter(Boolean);
  const refused = algorithms.filter((a) => !(ALLOWED_AUTH_ALGORITHMS as readonly string[]).includes(a));
  if (refused.length > 0 || algorithms.length === 0) {
    e.problems.push(`CHAINSIGHT_AUTH_ALGORITHMS must list asymmetric JWS algorithms among ${ALLOWED_AUTH_ALGORITHMS.join(', ')}; refused: ${refused.join(', ') || '(empty)'}`);
  }
  const anyAuth = [issuer, audience, jwksUrl, jwksFile, caFile, algs].some((v) => v !== undefined);
  if (!anyAuth) return { auth: undefined, insecure, cursorKey, metricsToken };
  // Half a configuration never means "open": every missing piece is named.
  if (issuer === undefined) e.problems.push('CHAINSIGHT_AUTH_ISSUER is required when authentication is configured');
  if (audience === undefined) e.problems.push('CHAINSIGHT_AUTH_AUDIENCE is required when authentication is configured');
  if ((jwksUrl === undefined) === (jwksFile === undefined)) e.problems.push('set exactly one of CHAINSIGHT_AUTH_JWKS_URL and CHAINSIGHT_AUTH_JWKS_FILE');
  if (caFile !== undefined && jwksUrl === undefined) e.problems.push('CHAINSIGHT_AUTH_CA_FILE applies to CHAINSIGHT_AUTH_JWKS_URL only');
  if (issuer === undefined || audience === undefined || (jwksUrl === undefined) === (jwksFile === undefined)) return { auth: undefined, insecure, cursorKey, metricsToken };
  return {
    auth: {
      issuer,
      audience,
      jwks: jwksUrl !== undefined ? { kind: 'url', url: jwksUrl, ...(caFile !== undefined ? { caFile: resolve(caFile) } : {}) } : { kind: 'file', path: resolve(jwksFile!) },
      algorithms,
      tenantsClaim,
      roleClaim,
      clockSkewSec,
    },
    insecure,
    cursorKey,
    metricsToken,
  };
}

/** CHAINSIGHT_METRICS_TOKEN_FILE: a file holding the scrape secret (a file, so it stays out of process listings). */
function readMetricsToken(e: EnvReader): string | undefined {
  const file = e.string('CHAINSIGHT_METRICS_TOKEN_FILE');
  if (file === undefined) return undefined;
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch (err) {
    e.problems.push(`CHAINSIGHT_METRICS_TOKEN_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
  if (token.length < MIN_METRICS_TOKEN_CHARS || !/^[\x21-\x7e]+$/.test(token)) {
    e.problems.push(`CHAINSIGHT_METRICS_TOKEN_FILE must hold at least ${MIN_METRICS_TOKEN_CHARS} printable characters without spaces (e.g. openssl rand -base64 32)`);
    return undefined;
  }
  return token;
}

/** CHAINSIGHT_API_CURSOR_KEY: base64 of at least 32 random bytes, or `@<file>` holding it. */
function readCursorKey(e: EnvReader): Buffer | undefined {
  const raw = e.string('CHAINSIGHT_API_CURSOR_KEY');
  if (raw === undefined) return undefined;
  let text = raw;
  if (raw.startsWith('@')) {
    try {
      text = readFileSync(raw.slice(1), 'utf8').trim();
    } catch (err) {
      e.problems.push(`CHAINSIGHT_API_CURSOR_KEY: cannot read ${raw.slice(1)} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      return undefined;
    }
  }
  const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : Buffer.alloc(0);
  if (key.length < MIN_CURSOR_KEY_BYTES) {
    e.problems.push(`CHAINSIGHT_API_CURSOR_KEY must be base64 of at least ${MIN_CURSOR_KEY_BYTES} bytes (e.g. openssl rand -base64 32)`);
    return undefined;
  }
  return key;
}
