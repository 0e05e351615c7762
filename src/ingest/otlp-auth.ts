/**
 * The receiver's side of emitter authentication: reads the TLS client
 * certificate chain and the `Authorization: Bearer` header of a request and
 * proves its sender with peer-identity.ts. A certificate that does not prove
 * an X.509-SVID closes the connection right after the handshake (before any
 * HTTP is read); a bearer token that does not verify is a 401. A request with
 * neither is unauthenticated, and the emitter policy decides per span
 * (src/verify/emitter-auth.ts).
 */
import { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { AuthenticatedPeer } from '../model/span.js';
import { bearerToken, peerFromCertificates, peerFromJwtSvid, type JwtSvidOptions, type PeerResult, type PeerTrust } from './peer-identity.js';
import { MAX_X5C_CERTS } from '../verify/trust-x509.js';

/** A request whose credentials were presented but do not prove anything: answered 401. */
export class EmitterAuthError extends Error {
  override name = 'EmitterAuthError';
}

/** The peer's chain as sent (leaf first), up to the first self-issued certificate. */
export function peerChain(socket: TLSSocket): X509Certificate[] {
  const out: X509Certificate[] = [];
  let c: PeerCertificate | undefined = socket.getPeerCertificate(true) as PeerCertificate & { issuerCertificate?: PeerCertificate };
  const seen = new Set<string>();
  while (c !== undefined && c.raw !== undefined && out.length < MAX_X5C_CERTS && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256);
    out.push(new X509Certificate(c.raw));
    c = (c as PeerCertificate & { issuerCertificate?: PeerCertificate }).issuerCertificate;
  }
  return out;
}

export interface OtlpAuthOptions extends JwtSvidOptions {
  trust: PeerTrust & { readonly generation: number };
  /** Connections refused at the TLS layer, by why (for a log line or a counter). */
  onRefused?(error: string): void;
}

interface CachedPeer {
  generation: number;
  /** Re-judged after this instant (the leaf's notAfter), even on the same trust. */
  untilMs: number;
  result: PeerResult | undefined;
}

export class OtlpAuthenticator {
  private readonly bySocket = new WeakMap<TLSSocket, CachedPeer>();
  constructor(private readonly opts: OtlpAuthOptions) {}

  /** The mTLS peer of a TLS connection (undefined without a client certificate), cached per connection and trust generation. */
  tlsPeer(socket: TLSSocket, nowMs = Date.now()): PeerResult | undefined {
    const hit = this.bySocket.get(socket);
    if (hit !== undefined && hit.generation === this.opts.trust.generation && nowMs <= hit.untilMs) return hit.result;
    let result: PeerResult | undefined;
    let untilMs = Infinity;
    try {
      const chain = peerChain(socket);
      if (chain.length > 0) {
        result = peerFromCertificates(chain, this.opts.trust, nowMs);
        untilMs = Date.parse(chain[0]!.validTo);
      }
    } catch (e) {
      result = { ok: false, error: `client certificate cannot be read: ${(e as Error).message}` };
    }
    this.bySocket.set(socket, { generation: this.opts.trust.generation, untilMs, result });
    return result;
  }

  /** For the HTTPS server's `secureConnection`: a certificate that proves nothing ends the connection. */
  onSecureConnection = (socket: TLSSocket): void => {
    const r = this.tlsPeer(socket);
    if (r !== undefined && !r.ok) {
      this.opts.onRefused?.(r.error);
      socket.destroy();
    }
  };

  /**
   * The request's proven sender, or undefined when it presented nothing.
   * Throws EmitterAuthError for credentials that do not verify, or an mTLS
   * peer and a bearer token naming different workloads.
   */
  async authenticate(req: IncomingMessage, nowMs = Date.now()): Promise<AuthenticatedPeer | undefined> {
    const socket = req.socket as TLSSocket;
    const tls = socket.encrypted === true ? this.tlsPeer(socket, nowMs) : undefined;
    if (tls !== undefined && !tls.ok) throw new EmitterAuthError(tls.error);
    const token = bearerToken(req.headers.authorization);
    if (token === null) throw new EmitterAuthError('the Authorization header is not "Bearer <JWT-SVID>"');
    if (token === undefined) return tls?.peer;
    const jwt = await peerFromJwtSvid(token, this.opts.trust, this.opts, nowMs);
    if (!jwt.ok) throw new EmitterAuthError(jwt.error);
    if (tls !== undefined && tls.peer.id !== jwt.peer.id) throw new EmitterAuthError(`the client certificate is for ${tls.peer.id} but the JWT-SVID for ${jwt.peer.id}`);
    return tls?.peer ?? jwt.peer;
  }
}
