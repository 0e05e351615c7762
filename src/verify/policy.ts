/**
 * Verification policy: the knobs of chain verification, their defaults and a
 * validating parser for configuration files.
 */
import type { ImplicationMap } from './scope.js';

/** Signature algorithms a deployment may allow. `none` and HMAC are never accepted. */
export const SUPPORTED_ALGORITHMS = ['EdDSA', 'ES256', 'ES384', 'PS256', 'RS256'] as const;
export type SignatureAlgorithm = (typeof SUPPORTED_ALGORITHMS)[number];

export interface VerifyPolicy {
  /** Most links a chain may have (the root counts). */
  maxDepth: number;
  /** Longest a link may live: exp - iat, in seconds. */
  maxLifetimeSec: number;
  /** Tolerated clock difference between issuers and spans, in seconds. */
  clockSkewSec: number;
  /** Largest compact JWS accepted, in bytes. */
  maxTokenBytes: number;
  /** Allowed `alg` header values. */
  algorithms: readonly SignatureAlgorithm[];
  /** What a scope grants besides itself. */
  implications: ImplicationMap;
}

export function defaultPolicy(): VerifyPolicy {
  return {
    maxDepth: 5,
    maxLifetimeSec: 4 * 3600,
    clockSkewSec: 60,
    maxTokenBytes: 4096,
    algorithms: [...SUPPORTED_ALGORITHMS],
    implications: {},
  };
}

export class PolicyError extends Error {
  override name = 'PolicyError';
}

const KNOWN_KEYS = new Set(['maxDepth', 'maxLifetimeSec', 'clockSkewSec', 'maxTokenBytes', 'algorithms', 'implications']);

function intIn(obj: Record<string, unknown>, key: string, min: number, max: number, fallback: number): number {
  const v = obj[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new PolicyError(`policy.${key} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * Build a policy from parsed JSON. Missing knobs take their defaults; unknown
 * keys, wrong types and out-of-range values throw a PolicyError naming the key.
 */
export function policyFromJson(input: unknown): VerifyPolicy {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new PolicyError('policy must be a JSON object');
  }
  const obj = input as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    if (!KNOWN_KEYS.has(k)) throw new PolicyError(`policy has an unknown key "${k}" (known: ${[...KNOWN_KEYS].join(', ')})`);
  }
  const d = defaultPolicy();
  const policy: VerifyPolicy = {
    maxDepth: intIn(obj, 'maxDepth', 1, 64, d.maxDepth),
    maxLifetimeSec: intIn(obj, 'maxLifetimeSec', 1, 366 * 86400, d.maxLifetimeSec),
    clockSkewSec: intIn(obj, 'clockSkewSec', 0, 3600, d.clockSkewSec),
    maxTokenBytes: intIn(obj, 'maxTokenBytes', 256, 1 << 20, d.maxTokenBytes),
    algorithms: d.algorithms,
    implications: d.implications,
  };
  if (obj.algorithms !== undefined) {
    const a = obj.algorithms;
    if (!Array.isArray(a) || a.length === 0) throw new PolicyError('policy.algorithms must be a non-empty array');
    for (const alg of a) {
      if (!(SUPPORTED_ALGORITHMS as readonly unknown[]).includes(alg)) {
        throw new PolicyError(`policy.algorithms: ${JSON.stringify(alg)} is not allowed (choose from ${SUPPORTED_ALGORITHMS.join(', ')}; "none" and HMAC are never accepted)`);
      }
    }
    policy.algorithms = [...new Set(a as SignatureAlgorithm[])];
  }
  if (obj.implications !== undefined) {
    const m = obj.implications;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new PolicyError('policy.implications must be an object of scope → array of scopes');
    const out: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(m as Record<string, unknown>)) {
      if (k.length === 0) throw new PolicyError('policy.implications has an empty scope as key');
      if (!Array.isArray(v) || !v.every((s) => typeof s === 'string' && s.length > 0)) {
        throw new PolicyError(`policy.implications["${k}"] must be an array of non-empty strings`);
      }
      out[k] = [...(v as string[])];
    }
    policy.implications = out;
  }
  return policy;
}
