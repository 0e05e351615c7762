/**
 * What the API client commands (`revoke`, `alerts`, …) share: their I/O,
 * injectable for tests, and one API call that prints the failure and sets the
 * exit status. The bearer token comes from CHAINSIGHT_API_TOKEN unless the
 * I/O says otherwise.
 */
import { apiToken } from '../config/config.js';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  exit(code: number): void;
  fetch: typeof fetch;
  /** The bearer token to send; absent: none. */
  token?(): string | undefined;
}

export const processIo: CliIo = {
  out: (t) => process.stdout.write(t + '\n'),
  err: (t) => process.stderr.write(t + '\n'),
  exit: (c) => {
    process.exitCode = c;
  },
  fetch: (...a) => fetch(...a),
  token: () => apiToken(),
};

/** Text safe for a terminal: no escape sequences, no line breaks inside a field. */
export function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
}

/** One API call; prints the error (a problem's detail when it is one) and sets the exit status when it fails. */
export async function callApi(io: CliIo, api: string, path: string, init: RequestInit = {}): Promise<unknown> {
  const token = io.token?.();
  const headers = { ...(init.headers as Record<string, string> | undefined), ...(token ? { authorization: `Bearer ${token}` } : {}) };
  let res: Response;
  try {
    res = await io.fetch(new URL(path, api), { ...init, headers });
  } catch (err) {
    io.err(`chainsight: cannot reach ${api}: ${err instanceof Error ? err.message : String(err)}`);
    io.exit(2);
    return undefined;
  }
  const body = await res.text();
  if (!res.ok) {
    let detail = body.trim();
    try {
      detail = (JSON.parse(body) as { detail?: string }).detail ?? detail;
    } catch {
      // not problem+json: shown as sent
    }
    io.err(`chainsight: ${res.status} ${printable(detail.slice(0, 2000))}`);
    io.exit(1);
    return undefined;
  }
  return JSON.parse(body) as unknown;
}
