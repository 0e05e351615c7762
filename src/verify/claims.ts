/**
 * Claim validation. The JSON Schema in schemas/delegation-token.schema.json is
 * the executable spec for one link's claims; the rules a schema cannot state
 * (ordering of times, root-only members) follow in `claimRuleErrors`.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import type { LinkClaims } from '../model/delegation.js';

/** Where the claims schema lives (same relative path from src/verify and dist/verify). */
export const CLAIMS_SCHEMA_URL = new URL('../../schemas/delegation-token.schema.json', import.meta.url);

export function loadClaimsSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(CLAIMS_SCHEMA_URL, 'utf8')) as Record<string, unknown>;
}

const ajv = new Ajv({ allErrors: true, strict: true });
const validate = ajv.compile<LinkClaims>(loadClaimsSchema());

function describe(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .map((e) => `${e.instancePath || '(claims)'} ${e.message ?? 'is invalid'}${e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : ''}`)
    .join('; ');
}

/** Schema check: the claims as typed, or an error text. */
export function validateClaimsSchema(payload: unknown): { ok: true; claims: LinkClaims } | { ok: false; error: string } {
  if (validate(payload)) return { ok: true, claims: payload };
  return { ok: false, error: describe(validate.errors) };
}

/**
 * Rules across fields of one link that JSON Schema cannot express. Returns
 * error texts (empty when fine). `isRoot` is the link's position, not a claim.
 */
export function claimRuleErrors(c: LinkClaims, isRoot: boolean, clockSkewSec: number): string[] {
  const errors: string[] = [];
  if (c.exp <= c.nbf) errors.push('exp must be after nbf');
  if (c.nbf < c.iat - clockSkewSec) errors.push('nbf is before iat (beyond clock skew)');
  if (!isRoot && c.purpose !== undefined) errors.push('purpose is allowed on the root link only');
  return errors;
}
