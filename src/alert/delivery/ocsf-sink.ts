/**
 * OCSF Detection Findings as JSON lines: appended to a file (synced before
 * the entry counts as delivered) or POSTed one per request.
 */
import { open } from 'node:fs/promises';
import type { Destination, OutboxEntry } from './destination.js';
import { postBody, type PostTarget } from './http-post.js';
import { ocsfDetectionFinding } from './ocsf.js';
import { signedHeaders } from './webhook.js';

interface Format {
  productName: string;
  externalUrl: string;
}

function line(entry: OutboxEntry, f: Format): Buffer {
  return Buffer.from(JSON.stringify(ocsfDetectionFinding(entry.change, { ...f, key: entry.key })) + '\n', 'utf8');
}

export class OcsfFileDestination implements Destination {
  constructor(
    readonly name: string,
    private readonly path: string,
    private readonly format: Format,
  ) {}

  async deliver(entry: OutboxEntry): Promise<void> {
    // Opened per entry: a rotated file (logrotate's move-and-create) is picked up at the next line.
    const fh = await open(this.path, 'a', 0o640);
    try {
      await fh.write(line(entry, this.format));
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  async close(): Promise<void> {}
}

export class OcsfHttpDestination implements Destination {
  constructor(
    readonly name: string,
    private readonly target: PostTarget,
    private readonly secret: Buffer | undefined,
    private readonly format: Format,
    private readonly now: () => number = Date.now,
  ) {}

  async deliver(entry: OutboxEntry): Promise<void> {
    const body = line(entry, this.format);
    await postBody(this.target, body, { ...signedHeaders(entry.key, this.secret, body, this.now()), 'content-type': 'application/x-ndjson' });
  }

  async close(): Promise<void> {}
}
