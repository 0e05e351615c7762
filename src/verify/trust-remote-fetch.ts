/**
 * One GET of a remote trust bundle, treating the endpoint as hostile: HTTPS
 * only with certificate verification always on (optionally against one CA
 * for that endpoint), no redirects, a timeout over the whole exchange, a
 * size cap enforced while reading, and a JSON content type.
 */
import { request } from 'node:https';
import { MAX_BUNDLE_BYTES } from './trust-bundle.js';

export interface BundleFetchOptions {
  url: string;
  /** PEM of the CA(s) to trust for this endpoint instead of the system's. */
  ca?: string;
  /** Whole-exchange timeout (default 5 s). */
  timeoutMs?: number;
  maxBytes?: number;
  /** Sent as If-None-Match when the previous answer had an ETag. */
  etag?: string;
}

export type BundleFetch =
  | { ok: true; notModified: false; text: string; etag?: string }
  | { ok: true; notModified: true }
  | { ok: false; error: string };

const JSON_TYPES = new Set(['application/json', 'application/jwk-set+json']);

/** Whether a Content-Type header names JSON a bundle may come as (parameters such as charset allowed). */
export function isBundleContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  return JSON_TYPES.has(header.split(';')[0]!.trim().toLowerCase());
}

/** Refuse anything but an https URL with a host: keys must never travel unauthenticated. */
export function checkBundleUrl(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `${JSON.stringify(url)} is not a URL`;
  }
  if (u.protocol !== 'https:') return `${url} is not an https URL; bundles are fetched over verified TLS only`;
  if (u.username || u.password) return `${url} carries credentials; put none in a bundle URL`;
  return undefined;
}

/** Never rejects: every failure is an answer with its reason. */
export function fetchBundle(o: BundleFetchOptions): Promise<BundleFetch> {
  const bad = checkBundleUrl(o.url);
  if (bad !== undefined) return Promise.resolve({ ok: false, error: bad });
  const maxBytes = o.maxBytes ?? MAX_BUNDLE_BYTES;
  return new Promise<BundleFetch>((resolve) => {
    let settled = false;
    const done = (r: BundleFetch) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(r);
    };
    const headers: Record<string, string> = { accept: 'application/jwk-set+json, application/json' };
    if (o.etag !== undefined) headers['if-none-match'] = o.etag;
    const req = request(o.url, {
      method: 'GET',
      headers,
      // Never configurable: a bundle from an unverified peer is anyone's bundle.
      rejectUnauthorized: true,
      ...(o.ca !== undefined ? { ca: o.ca } : {}),
      agent: false,
    }, (res) => {
      const status = res.statusCode ?? 0;
      if (status === 304 && o.etag !== undefined) return done({ ok: true, notModified: true });
      if (status >= 300 && status < 400) return done({ ok: false, error: `redirect (${status}) refused: configure the bundle's final URL` });
      if (status !== 200) return done({ ok: false, error: `HTTP ${status}` });
      if (!isBundleContentType(res.headers['content-type'])) return done({ ok: false, error: `content type ${JSON.stringify(res.headers['content-type'] ?? '')} is not JSON` });
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) return done({ ok: false, error: `${declared} bytes; a bundle may have at most ${maxBytes}` });
      const chunks: Buffer[] = [];
      let n = 0;
      res.on('data', (c: Buffer) => {
        n += c.length;
        if (n > maxBytes) return done({ ok: false, error: `more than ${maxBytes} bytes; a bundle may have at most ${maxBytes}` });
        chunks.push(c);
      });
      res.on('end', () => {
        const etag = res.headers.etag;
        done({ ok: true, notModified: false, text: Buffer.concat(chunks).toString('utf8'), ...(etag ? { etag } : {}) });
      });
      res.on('error', (e) => done({ ok: false, error: e.message }));
    });
    const timer = setTimeout(() => done({ ok: false, error: `no complete answer within ${o.timeoutMs ?? 5000} ms` }), o.timeoutMs ?? 5000);
    req.on('error', (e) => done({ ok: false, error: e.message }));
    req.end();
  }).catch((e: unknown) => ({ ok: false, error: `cannot send the request: ${e instanceof Error ? e.message : String(e)}` }) as BundleFetch);
}
