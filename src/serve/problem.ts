import type { Response } from 'express';

/**
 * Errors as RFC 9457 problem details (`application/problem+json`). Each kind
 * of problem has a stable `type` URI a client can switch on; `detail` says
 * what was wrong with this request and never carries internal text.
 */
export const PROBLEM_TYPES = {
  'invalid-request': { status: 400, title: 'Invalid request' },
  'invalid-cursor': { status: 400, title: 'Invalid cursor' },
  unauthenticated: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Forbidden' },
  'not-found': { status: 404, title: 'Not found' },
  conflict: { status: 409, title: 'Conflict' },
  'store-unavailable': { status: 503, title: 'Store unavailable' },
  'auth-unavailable': { status: 503, title: 'Identity provider unavailable' },
  internal: { status: 500, title: 'Internal error' },
} as const;

export type ProblemKind = keyof typeof PROBLEM_TYPES;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  /** Server errors only: the id under which the cause is logged. */
  errorId?: string;
}

export function problemTypeUri(kind: ProblemKind): string {
  return `urn:chainsight:problem:${kind}`;
}

/** A request the API refuses; thrown by handlers, answered by the error handler. */
export class ApiProblem extends Error {
  constructor(readonly kind: ProblemKind, readonly detail: string, readonly headers: Record<string, string> = {}) {
    super(detail);
  }
}

export function problemBody(kind: ProblemKind, detail: string, instance: string, errorId?: string): ProblemBody {
  const t = PROBLEM_TYPES[kind];
  return { type: problemTypeUri(kind), title: t.title, status: t.status, detail, instance, ...(errorId ? { errorId } : {}) };
}

/**
 * Sends a problem. `instance` is the request's path without its query string,
 * which may hold a cursor or a name the caller would not want echoed to logs.
 */
export function sendProblem(res: Response, kind: ProblemKind, detail: string, instance: string, opts: { errorId?: string; headers?: Record<string, string> } = {}): void {
  for (const [k, v] of Object.entries(opts.headers ?? {})) res.setHeader(k, v);
  res.status(PROBLEM_TYPES[kind].status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problemBody(kind, detail, instance, opts.errorId)));
}
