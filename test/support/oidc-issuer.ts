/**
 * Test helper: an identity provider as chainsight sees one: a JWKS served over
 * real HTTPS (node:https, a certificate made by the openssl CLI for this run)
 * and tokens minted with jose from the matching private keys.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWTPayload } from 'jose';

export interface TestIssuer {
  issuer: string;
  audience: string;
  jwksUrl: string;
  /** PEM of the self-signed certificate the JWKS is served with. */
  caFile: string;
  /** Public key (SPKI PEM) of the RS256 key: the text an HMAC confusion attack signs with. */
  rsaPublicPem: string;
  /** A token signed with the issuer's RS256 key (or `alg`), for `claims` over sensible defaults. */
  mint(claims?: JWTPayload, opts?: { alg?: 'RS256' | 'ES256'; expSec?: number; nbfSec?: number; kid?: string }): Promise<string>;
  /** The public JWK Set served at jwksUrl. */
  jwks: { keys: object[] };
  /** Requests the JWKS endpoint answered. */
  readonly fetches: number;
  close(): Promise<void>;
}

export async function startTestIssuer(opts: { issuer?: string; audience?: string } = {}): Promise<TestIssuer> {
  const dir = mkdtempSync(join(tmpdir(), 'cs-oidc-'));
  const keyFile = join(dir, 'tls-key.pem');
  const caFile = join(dir, 'tls-cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', caFile,
  ], { stdio: 'ignore' });
  const rsa = await generateKeyPair('RS256', { extractable: true });
  const ec = await generateKeyPair('ES256', { extractable: true });
  const keys: Array<{ kid: string; alg: string; priv: CryptoKey; pub: CryptoKey }> = [
    { kid: 'rsa-1', alg: 'RS256', priv: rsa.privateKey, pub: rsa.publicKey },
    { kid: 'ec-1', alg: 'ES256', priv: ec.privateKey, pub: ec.publicKey },
  ];
  const jwks = { keys: await Promise.all(keys.map(async (k) => ({ ...(await exportJWK(k.pub)), kid: k.kid, alg: k.alg, use: 'sig' }))) };
  const spki = Buffer.from(await crypto.subtle.exportKey('spki', rsa.publicKey)).toString('base64');
  const rsaPublicPem = `-----BEGIN PUBLIC KEY-----\n${spki.match(/.{1,64}/g)!.join('\n')}\n-----END PUBLIC KEY-----\n`;

  let fetches = 0;
  const server: Server = createServer({ key: readFileSync(keyFile), cert: readFileSync(caFile) }, (req, res) => {
    if (req.url !== '/jwks') {
      res.writeHead(404).end();
      return;
    }
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = opts.issuer ?? `${base}/realms/soc`;
  const audience = opts.audience ?? 'chainsight-api';
  return {
    issuer, audience, jwksUrl: `${base}/jwks`, caFile, rsaPublicPem, jwks,
    get fetches() { return fetches; },
    async mint(claims = {}, o = {}) {
      const k = keys.find((x) => x.alg === (o.alg ?? 'RS256'))!;
      const now = Math.floor(Date.now() / 1000);
      const jwt = new SignJWT({ iss: issuer, aud: audience, sub: 'analyst@soc.example', iat: now, exp: now + (o.expSec ?? 300), ...(o.nbfSec !== undefined ? { nbf: now + o.nbfSec } : {}), ...claims })
        .setProtectedHeader({ alg: k.alg, kid: o.kid ?? k.kid, typ: 'JWT' });
      return jwt.sign(k.priv);
    },
    async close() {
      server.closeAllConnections();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A JWS with `alg: none`: header and payload, and an empty signature. */
export function unsignedToken(payload: JWTPayload): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;
}

/** An HS256 JWS keyed with `secret` (the classic confusion attack keys it with the issuer's public key). */
export async function hmacToken(payload: JWTPayload, secret: string, kid = 'rsa-1'): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'HS256', kid, typ: 'JWT' }).sign(new TextEncoder().encode(secret));
}
