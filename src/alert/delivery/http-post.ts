/**
 * One bounded HTTP(S) POST to a receiver we do not control. A whole request,
 * connect to last byte, has one deadline (a slow or stalled receiver cannot
 * hold the dispatcher); at most a few KiB of the answer are read; redirects
 * are not followed (a 3xx is a failure: the configured URL is the one we
 * sign for); TLS verifies against the system roots or the configured CA.
 */
import http from 'node:http';
import https from 'node:https';

export interface PostTarget {
  url: URL;
  /** PEM of the CA(s) to trust instead of the system roots. */
  ca?: Buffer;
  timeoutMs: number;
}

export class DeliveryError extends Error {
  override name = 'DeliveryError';
}

/** How much of a response body is read (for the error message) before the socket is dropped. */
const MAX_RESPONSE_BYTES = 4096;

/** The URL without its query (which may hold a token), for logs and errors. */
export function printableUrl(u: URL): string {
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/**
 * Resolves with the status when the receiver answered 2xx; rejects with a
 * DeliveryError (status and a bounded, printable excerpt) otherwise.
 */
export function postBody(target: PostTarget, body: Buffer, headers: Record<string, string>): Promise<number> {
  const { url } = target;
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise<number>((resolve, reject) => {
    const signal = AbortSignal.timeout(target.timeoutMs);
    const req = lib.request(
      url,
      {
        method: 'POST',
        agent: false,
        signal,
        headers: { ...headers, 'content-type': headers['content-type'] ?? 'application/json', 'content-length': String(body.length) },
        ...(url.protocol === 'https:' ? { ca: target.ca, rejectUnauthorized: true } : {}),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        // The status is the answer: a receiver's body is not waited for (it may trickle).
        if (status >= 200 && status < 300) {
          res.destroy();
          return resolve(status);
        }
        const chunks: Buffer[] = [];
        let size = 0;
        const settle = (): void => {
          res.destroy();
          const excerpt = Buffer.concat(chunks).subarray(0, 200).toString('utf8').replace(/[^\x20-\x7e]/g, '?');
          const what = status >= 300 && status < 400 ? 'redirect not followed' : 'refused';
          reject(new DeliveryError(`${printableUrl(url)} answered ${status} (${what})${excerpt ? `: ${excerpt}` : ''}`));
        };
        res.on('data', (c: Buffer) => {
          chunks.push(c.subarray(0, Math.max(0, MAX_RESPONSE_BYTES - size)));
          size += c.length;
          if (size >= MAX_RESPONSE_BYTES) settle();
        });
        res.on('end', settle);
        res.on('error', () => settle());
        res.on('close', settle);
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      const why = signal.aborted ? `no answer within ${target.timeoutMs} ms` : (err.code ?? err.message);
      reject(new DeliveryError(`${printableUrl(url)}: ${why}`));
    });
    req.end(body);
  });
}
