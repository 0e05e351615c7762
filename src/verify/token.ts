/**
 * Parsing one compact JWS delegation link, without any key: split, strict
 * base64url, JSON header and payload. Signature and claim checks come later.
 */
import { hash } from 'node:crypto';

/** The `typ` header every delegation link carries (RFC 8725 explicit typing). */
export const TOKEN_TYPE = 'chainsight-delegation+jwt';
/** The `typ` of an STS-issued token-exchange token carrying the whole chain in nested `act` claims (spec §11). */
export const EXCHANGE_TOKEN_TYPE = 'chainsight-exchange+jwt';

export interface ParsedToken {
  header: { alg: string; kid: string; typ: string } & Record<string, unknown>;
  /** Decoded payload; not yet validated against the claims schema. */
  payload: Record<string, unknown>;
  /** ASCII bytes of `header.payload`: what the signature covers. */
  signingInput: Buffer;
  signature: Buffer;
}

export type ParseResult = { ok: true; token: ParsedToken } | { ok: false; error: string };

const B64URL = /^[A-Za-z0-9_-]+$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Strict base64url without padding: valid alphabet, no impossible length, and
 * the spare low bits of the last character zero. Otherwise one signed link
 * could travel under several texts, each with a different hash.
 */
export function canonicalBase64url(s: string): boolean {
  if (!B64URL.test(s) || s.length % 4 === 1) return false;
  const spareBits = (s.length * 6) % 8;
  if (spareBits === 0) return true;
  return (ALPHABET.indexOf(s[s.length - 1] as string) & ((1 << spareBits) - 1)) === 0;
}

/** base64url(SHA-256(text)): a link's identity, and what its child's `prf` holds. */
export function tokenHash(token: string): string {
  return hash('sha256', token, 'base64url');
}

function decodeJsonObject(part: string, what: string): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return `${what} is not base64url-encoded JSON`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${what} is not a JSON object`;
  return value as Record<string, unknown>;
}

/**
 * The header's `typ`, read without parsing the rest: how a one-token chain is
 * told apart as a token-exchange token. Undefined when the header does not decode.
 */
export function peekTokenType(token: string): unknown {
  const dot = token.indexOf('.');
  if (dot <= 0) return undefined;
  const header = decodeJsonObject(token.slice(0, dot), 'header');
  return typeof header === 'string' ? undefined : header.typ;
}

/** Parse one compact JWS whose header `typ` must be `typ` (a delegation link by default). */
export function parseToken(token: string, typ: string = TOKEN_TYPE): ParseResult {
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (first < 0 || second < 0 || token.indexOf('.', second + 1) >= 0) {
    return { ok: false, error: 'not a compact JWS (expected three dot-separated parts)' };
  }
  const h = token.slice(0, first);
  const p = token.slice(first + 1, second);
  const s = token.slice(second + 1);
  // Header and payload need no alphabet check: the signature covers their
  // exact text, and a decoding slip only yields JSON that fails to parse.
  if (h.length === 0 || p.length === 0) return { ok: false, error: 'header or payload is empty' };
  // An empty signature parses (alg "none" tokens have one) so that the
  // algorithm check, not the parser, names what is wrong.
  if (s.length > 0 && !canonicalBase64url(s)) return { ok: false, error: 'signature is not canonical base64url' };
  const signature = Buffer.from(s, 'base64url');

  const header = decodeJsonObject(h, 'header');
  if (typeof header === 'string') return { ok: false, error: header };
  if (typeof header.alg !== 'string') return { ok: false, error: 'header has no alg' };
  if (typeof header.kid !== 'string' || header.kid.length === 0) return { ok: false, error: 'header has no kid' };
  if (header.typ !== typ) return { ok: false, error: `header typ must be "${typ}", got ${JSON.stringify(header.typ)}` };
  // We understand no JWS extensions; a critical one we ignored could change meaning.
  if (header.crit !== undefined) return { ok: false, error: 'header crit is not supported' };

  const payload = decodeJsonObject(p, 'payload');
  if (typeof payload === 'string') return { ok: false, error: payload };

  return {
    ok: true,
    token: {
      header: header as ParsedToken['header'],
      payload,
      signingInput: Buffer.from(token.slice(0, second), 'ascii'),
      signature,
    },
  };
}
