/**
 * A webhook receiver as a customer would write one: it checks every
 * request's signature over the raw body, drops an Idempotency-Key it has
 * already processed, and counts what it saw. It can go down (server closed,
 * connections cut) and come back on the same port.
 */
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifySignature } from '../../src/alert/delivery/signature.js';

export interface Received {
  key: string;
  body: Record<string, unknown>;
}

export class WebhookReceiver {
  /** First delivery of each key, in arrival order. */
  readonly accepted: Received[] = [];
  /** Requests whose key was already accepted (dropped, answered 200). */
  duplicates = 0;
  /** Requests refused for their signature, with why. */
  readonly badSignatures: string[] = [];
  private server: http.Server | https.Server | undefined;
  private readonly seen = new Set<string>();
  port = 0;

  constructor(
    private readonly secret: Buffer,
    private readonly tls?: { key: Buffer; cert: Buffer },
  ) {}

  get url(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}/hook?token=query-secret`;
  }

  async start(port = this.port): Promise<void> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const header = (n: string): string | undefined => (typeof req.headers[n] === 'string' ? (req.headers[n] as string) : undefined);
        const v = verifySignature(this.secret, { signature: header(SIGNATURE_HEADER), timestamp: header(TIMESTAMP_HEADER) }, body, Math.floor(Date.now() / 1000));
        if (!v.ok) {
          this.badSignatures.push(v.reason);
          res.writeHead(401).end();
          return;
        }
        const key = header(IDEMPOTENCY_HEADER) ?? '';
        if (this.seen.has(key)) this.duplicates += 1;
        else {
          this.seen.add(key);
          this.accepted.push({ key, body: JSON.parse(body.toString('utf8')) as Record<string, unknown> });
        }
        res.writeHead(200).end('ok');
      });
    };
    this.server = this.tls ? https.createServer({ key: this.tls.key, cert: this.tls.cert }, handler) : http.createServer(handler);
    this.server.listen(port, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Down: the listener closed and open connections cut, so senders get connection refused. */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
