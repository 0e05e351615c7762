/** The Alertmanager-format webhook, each body signed with HMAC-SHA256 (signature.ts). */
import { alertmanagerPayload } from './alertmanager.js';
import type { Destination, OutboxEntry } from './destination.js';
import { postBody, type PostTarget } from './http-post.js';
import { IDEMPOTENCY_HEADER, SIGNATURE_HEADER, signBody, TIMESTAMP_HEADER } from './signature.js';

/** Headers of a signed POST: the idempotency key, the timestamp and the signature over both the timestamp and the body. */
export function signedHeaders(key: string, secret: Buffer | undefined, body: Buffer, nowMs: number): Record<string, string> {
  const headers: Record<string, string> = { [IDEMPOTENCY_HEADER]: key, 'user-agent': 'chainsight-alerts' };
  if (secret !== undefined) {
    const ts = Math.floor(nowMs / 1000);
    headers[TIMESTAMP_HEADER] = String(ts);
    headers[SIGNATURE_HEADER] = signBody(secret, ts, body);
  }
  return headers;
}

export class WebhookDestination implements Destination {
  constructor(
    readonly name: string,
    private readonly target: PostTarget,
    private readonly secret: Buffer,
    private readonly format: { receiver: string; externalUrl: string },
    private readonly now: () => number = Date.now,
  ) {}

  async deliver(entry: OutboxEntry): Promise<void> {
    const body = Buffer.from(JSON.stringify(alertmanagerPayload(entry.change, this.format)), 'utf8');
    await postBody(this.target, body, signedHeaders(entry.key, this.secret, body, this.now()));
  }

  async close(): Promise<void> {}
}
