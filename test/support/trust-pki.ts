/**
 * Test PKI made with the openssl CLI: CAs, X.509-SVIDs (URI SAN leaves), a
 * localhost TLS certificate, and a real HTTPS server serving a trust bundle
 * that the test can change, break, slow down or redirect, counting requests.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { SigningKey } from '../../src/sdk/keys.js';
import { mintChild, type MintChildOptions } from '../../src/sdk/mint.js';

export interface Pem {
  name: string;
  keyFile: string;
  certFile: string;
  key: KeyObject;
  certPem: string;
  cert: X509Certificate;
  /** Standard base64 DER, as x5c carries it. */
  der64: string;
}

function newKey(dir: string, name: string): { keyFile: string; key: KeyObject } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyFile = join(dir, `${name}.key`);
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return { keyFile, key: privateKey };
}

function load(name: string, keyFile: string, key: KeyObject, certFile: string): Pem {
  const certPem = readFileSync(certFile, 'utf8');
  const cert = new X509Certificate(certPem);
  return { name, keyFile, certFile, key, certPem, cert, der64: cert.raw.toString('base64') };
}

/** A self-signed CA (basicConstraints CA:TRUE, keyCertSign). */
export function makeCa(dir: string, name: string, days = 2): Pem {
  const { keyFile, key } = newKey(dir, name);
  const certFile = join(dir, `${name}.pem`);
  execFileSync('openssl', ['req', '-x509', '-new', '-key', keyFile, '-subj', `/CN=${name}`, '-days', String(days), '-out', certFile,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], { stdio: 'pipe' });
  return load(name, keyFile, key, certFile);
}

export interface LeafOptions {
  /** subjectAltName value, e.g. `URI:spiffe://co.com/agent/x` or `DNS:localhost,IP:127.0.0.1`. */
  san?: string;
  ca?: boolean;
  keyUsage?: string;
  days?: number;
}

/** A certificate issued by `issuer`; by default an X.509-SVID-shaped leaf. */
export function issue(dir: string, issuer: Pem, name: string, o: LeafOptions = {}): Pem {
  const { keyFile, key } = newKey(dir, name);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  const certFile = join(dir, `${name}.pem`);
  const lines = [`basicConstraints=critical,CA:${o.ca ? 'TRUE' : 'FALSE'}`, `keyUsage=critical,${o.keyUsage ?? (o.ca ? 'keyCertSign,cRLSign' : 'digitalSignature')}`];
  if (o.san) lines.push(`subjectAltName=${o.san}`);
  writeFileSync(ext, lines.join('\n') + '\n');
  execFileSync('openssl', ['req', '-new', '-key', keyFile, '-subj', `/CN=${name}`, '-out', csr], { stdio: 'pipe' });
  execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', issuer.certFile, '-CAkey', issuer.keyFile, '-set_serial', String(Date.now() % 1e12),
    '-days', String(o.days ?? 1), '-extfile', ext, '-out', certFile], { stdio: 'pipe' });
  return load(name, keyFile, key, certFile);
}

/** The JWK of a SPIFFE bundle's X.509 authority for `ca`. */
export function x509Authority(ca: Pem): Record<string, unknown> {
  return { ...(ca.cert.publicKey.export({ format: 'jwk' }) as object), use: 'x509-svid', x5c: [ca.der64] };
}

/** Mint a child link signed with an X.509-SVID's key, carrying `x5c` (leaf first). */
export function mintWithSvid(o: Omit<MintChildOptions, 'signerKey'> & { leaf: Pem; issuer: string; x5c?: string[] }): Promise<string[]> {
  const { leaf, issuer, x5c, ...rest } = o;
  const signerKey: SigningKey = { kid: 'x509-svid', alg: 'ES256', trustDomain: new URL(issuer).host, principal: issuer, key: leaf.key as unknown as SigningKey['key'] };
  return mintChild({ ...rest, signerKey, unsafe: { ...rest.unsafe, header: { x5c: x5c ?? [leaf.der64], ...rest.unsafe?.header } } });
}

/** What the bundle server answers; the test mutates it between requests. */
export interface BundleReply {
  status: number;
  contentType: string;
  body: string;
  /** Extra headers (Location for redirects, ETag). */
  headers?: Record<string, string>;
  /** Hold the answer this long (timeouts). */
  delayMs?: number;
}

export interface BundleServer {
  url: string;
  reply: BundleReply;
  /** Requests received so far. */
  requests: number;
  close(): Promise<void>;
}

/** A real HTTPS server with a certificate for localhost/127.0.0.1 issued by `ca`. */
export async function startBundleServer(dir: string, ca: Pem, path = '/bundle.json'): Promise<BundleServer> {
  const tls = issue(dir, ca, 'bundle-server', { san: 'DNS:localhost,IP:127.0.0.1', keyUsage: 'digitalSignature,keyEncipherment' });
  const state: BundleServer = {
    url: '',
    reply: { status: 200, contentType: 'application/json', body: '{"keys":[]}' },
    requests: 0,
    close: async () => undefined,
  };
  const server: Server = createServer({ key: readFileSync(tls.keyFile), cert: tls.certPem }, (req, res) => {
    state.requests++;
    const r = state.reply;
    const send = () => {
      if (res.destroyed) return;
      res.writeHead(r.status, { 'content-type': r.contentType, ...(r.headers ?? {}) });
      res.end(r.body);
    };
    if (r.delayMs) setTimeout(send, r.delayMs);
    else send();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  state.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  state.close = async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close').catch(() => undefined);
  };
  return state;
}
