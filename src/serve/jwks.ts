import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { createLocalJWKSet, createRemoteJWKSet, customFetch, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

/** Where the identity provider's signing keys come from. */
export type JwksSource =
  | { kind: 'url'; url: string; /** PEM file of extra CAs to trust for this URL (a private PKI). */ caFile?: string }
  | { kind: 'file'; path: string };

const MAX_JWKS_BYTES = 1 << 20;

/**
 * The key set tokens are verified against. A URL is fetched (and refetched on
 * an unknown `kid`, with jose's cooldown) over HTTPS only, except on loopback;
 * a file is read once at start. A file holding private key material is
 * refused: a JWKS published for verification never has any.
 */
export function openJwks(source: JwksSource): JWTVerifyGetKey {
  if (source.kind === 'file') {
    const jwks = JSON.parse(readFileSync(source.path, 'utf8')) as JSONWebKeySet;
    if (!jwks || !Array.isArray(jwks.keys)) throw new Error(`${source.path}: not a JWK Set (no "keys" array)`);
    if (jwks.keys.some((k) => 'd' in k || 'k' in k)) throw new Error(`${source.path}: holds private or symmetric key material; publish public keys only`);
    return createLocalJWKSet(jwks);
  }
  const url = new URL(source.url);
  if (url.protocol !== 'https:' && !isLoopbackHost(url.hostname)) throw new Error(`JWKS URL ${source.url} must be https (plain http only on loopback)`);
  if (source.caFile === undefined) return createRemoteJWKSet(url);
  const ca = readFileSync(source.caFile, 'utf8');
  return createRemoteJWKSet(url, { [customFetch]: (href, init) => fetchWithCa(href, init, ca) });
}

/** A GET trusting `ca` besides nothing else (Node's global fetch cannot take a CA per request). */
function fetchWithCa(href: string, init: { headers: Headers; signal: AbortSignal }, ca: string): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(href, { method: 'GET', ca, headers: Object.fromEntries(init.headers), signal: init.signal }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_JWKS_BYTES) req.destroy(new Error('JWKS response too large'));
        else chunks.push(c);
      });
      res.on('end', () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 502 })));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
}
