/**
 * X.509-SVIDs as link signers: a link whose header carries `x5c` is signed by
 * the key of the leaf certificate, which must chain to one of its trust
 * domain's X.509 authorities (the bundle's `use: "x509-svid"` keys) and name
 * the link's issuer as its only URI SAN. Pure: certificates in, a verdict out.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';

/** Most certificates an `x5c` may carry: a leaf and a few intermediates. */
export const MAX_X5C_CERTS = 4;
/** Largest single certificate accepted (DER bytes). */
export const MAX_CERT_BYTES = 8 * 1024;

/** `unanchored`: the chain is sound but leads to no authority the bundle holds (a fresher bundle might). */
export type X5cResult = { ok: true; leaf: X509Certificate; key: KeyObject } | { ok: false; error: string; unanchored?: boolean };

const STD_BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The certificates of an `x5c` header member (RFC 7515 §4.1.6: standard base64 DER, leaf first). */
export function parseX5c(x5c: unknown): X509Certificate[] | string {
  if (!Array.isArray(x5c) || x5c.length === 0) return 'x5c must be a non-empty array';
  if (x5c.length > MAX_X5C_CERTS) return `x5c holds ${x5c.length} certificates; at most ${MAX_X5C_CERTS} are accepted`;
  const out: X509Certificate[] = [];
  for (const [i, c] of x5c.entries()) {
    if (typeof c !== 'string' || !STD_BASE64.test(c) || c.length % 4 !== 0) return `x5c[${i}] is not standard base64`;
    const der = Buffer.from(c, 'base64');
    if (der.length > MAX_CERT_BYTES) return `x5c[${i}] is ${der.length} bytes; at most ${MAX_CERT_BYTES}`;
    try {
      out.push(new X509Certificate(der));
    } catch (e) {
      return `x5c[${i}] is not an X.509 certificate: ${(e as Error).message}`;
    }
  }
  return out;
}

/** Read one DER TLV at `at`: tag, content start and end. Throws on truncation. */
function tlv(der: Buffer, at: number): { tag: number; start: number; end: number } {
  const tag = der[at];
  let len = der[at + 1];
  if (tag === undefined || len === undefined) throw new Error('truncated DER');
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error('unsupported DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (der[start + i] ?? 0);
    start += n;
  }
  const end = start + len;
  if (end > der.length) throw new Error('truncated DER');
  return { tag, start, end };
}

function children(der: Buffer, start: number, end: number): Array<{ tag: number; start: number; end: number }> {
  const out = [];
  for (let at = start; at < end; ) {
    const t = tlv(der, at);
    out.push(t);
    at = t.end;
  }
  return out;
}

const KEY_USAGE_OID = Buffer.from([0x55, 0x1d, 0x0f]);

/**
 * Whether the certificate's keyUsage extension grants digitalSignature; undefined
 * when it has none. node:crypto does not expose keyUsage, so the DER is walked:
 * Certificate → tbsCertificate → [3] extensions → keyUsage BIT STRING.
 */
export function digitalSignatureUsage(cert: X509Certificate): boolean | undefined {
  const der = cert.raw;
  const certSeq = tlv(der, 0);
  const tbs = tlv(der, certSeq.start);
  const ext = children(der, tbs.start, tbs.end).find((c) => c.tag === 0xa3);
  if (ext === undefined) return undefined;
  const list = tlv(der, ext.start);
  for (const e of children(der, list.start, list.end)) {
    const parts = children(der, e.start, e.end);
    const oid = parts[0];
    if (oid === undefined || oid.tag !== 0x06 || !der.subarray(oid.start, oid.end).equals(KEY_USAGE_OID)) continue;
    const value = parts[parts.length - 1];
    if (value === undefined || value.tag !== 0x04) throw new Error('keyUsage is not an OCTET STRING');
    const bits = tlv(der, value.start);
    if (bits.tag !== 0x03 || bits.end - bits.start < 2) return false;
    // First content byte counts unused bits; digitalSignature is the first (most significant) bit.
    return ((der[bits.start + 1] ?? 0) & 0x80) !== 0;
  }
  return undefined;
}

/** The certificate's URI SANs (node renders them as `URI:<value>`, comma separated). */
export function uriSans(cert: X509Certificate): string[] {
  const san = cert.subjectAltName;
  if (san === undefined) return [];
  return san.split(', ').filter((s) => s.startsWith('URI:')).map((s) => s.slice(4));
}

function validAt(cert: X509Certificate, atMs: number): boolean {
  return Date.parse(cert.validFrom) <= atMs && atMs <= Date.parse(cert.validTo);
}

function issuedBy(child: X509Certificate, parent: X509Certificate): boolean {
  return child.checkIssued(parent) && child.verify(parent.publicKey);
}

/**
 * Judge an `x5c` chain for a link issued by `issuer` at `iatSec`: every
 * certificate valid at that instant, each issued by the next, the last one
 * issued by (or equal to) one of `authorities`; intermediates are CAs; the
 * leaf is not a CA, may sign (keyUsage digitalSignature), and has exactly
 * one URI SAN, equal to `issuer`.
 */
export function checkX5c(certs: X509Certificate[], authorities: readonly X509Certificate[], issuer: string, iatSec: number): X5cResult {
  const leaf = certs[0];
  if (leaf === undefined) return { ok: false, error: 'x5c is empty' };
  if (authorities.length === 0) return { ok: false, error: 'the trust domain has no X.509 authority', unanchored: true };
  const at = iatSec * 1000;
  try {
    for (const [i, c] of certs.entries()) {
      if (!validAt(c, at)) return { ok: false, error: `x5c[${i}] is not valid at the link's iat (${c.validFrom} – ${c.validTo})` };
      if (i > 0 && !c.ca) return { ok: false, error: `x5c[${i}] is not a CA certificate but is used as an issuer` };
    }
    if (leaf.ca) return { ok: false, error: 'the leaf certificate is a CA certificate; an X.509-SVID must not be' };
    if (digitalSignatureUsage(leaf) !== true) return { ok: false, error: 'the leaf certificate does not allow digitalSignature' };
    const sans = uriSans(leaf);
    if (sans.length !== 1) return { ok: false, error: `the leaf certificate has ${sans.length} URI SANs; an X.509-SVID has exactly one` };
    if (sans[0] !== issuer) return { ok: false, error: `the leaf certificate is for ${sans[0]}, not the link's issuer ${issuer}` };
    for (let i = 0; i + 1 < certs.length; i++) {
      if (!issuedBy(certs[i] as X509Certificate, certs[i + 1] as X509Certificate)) return { ok: false, error: `x5c[${i}] is not issued by x5c[${i + 1}]` };
    }
    const top = certs[certs.length - 1] as X509Certificate;
    const anchored = authorities.some((a) => (top.fingerprint256 === a.fingerprint256 && certs.length > 1) || (validAt(a, at) && issuedBy(top, a)));
    if (!anchored) return { ok: false, error: "the certificate chain does not lead to one of the trust domain's X.509 authorities", unanchored: true };
  } catch (e) {
    return { ok: false, error: `certificate cannot be read: ${(e as Error).message}` };
  }
  return { ok: true, leaf, key: leaf.publicKey };
}
