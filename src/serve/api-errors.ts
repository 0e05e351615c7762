/**
 * The API's one error answer, shared by every router it mounts: problem+json
 * (RFC 9457); 5xx carry an errorId and never internal text (SQL, stack,
 * engine messages), which stays in the log under that id.
 */
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { isStoreUnavailable } from '../store/errors.js';
import { InvalidCursor } from '../store/task-summary-cursor.js';
import { AuthUnavailable } from './auth.js';
import { ApiProblem, sendProblem } from './problem.js';

/** The subset of a pino logger the API uses. */
export interface ApiLogger {
  error(obj: object, msg: string): void;
}

/** A request's path without its query: the problem's `instance`. */
export function instanceOf(req: Request): string {
  return req.originalUrl.split('?')[0] ?? '';
}

export function apiErrorHandler(logger?: ApiLogger): (err: unknown, req: Request, res: Response, next: NextFunction) => void {
return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
  const instance = instanceOf(req);
  if (err instanceof ApiProblem) {
    sendProblem(res, err.kind, err.detail, instance, { headers: err.headers });
    return;
  }
  if (err instanceof InvalidCursor) {
    sendProblem(res, 'invalid-cursor', 'cursor is from another version of this list; start again without it', instance);
    return;
  }
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Express's own refusals (a path that does not decode, …): its message may quote the input, so it is not sent.
    sendProblem(res, 'invalid-request', 'the request could not be parsed', instance);
    return;
  }
  // Internal text (SQL, stack, engine messages) stays in the log; the caller gets an id to quote.
  const errorId = randomUUID();
  if (isStoreUnavailable(err)) {
    logger?.error({ err, errorId }, 'store unavailable for an API request');
    sendProblem(res, 'store-unavailable', 'the store cannot be reached; retry later', instance, { errorId, headers: { 'Retry-After': '5' } });
    return;
  }
  if (err instanceof AuthUnavailable) {
    logger?.error({ err: err.cause, errorId }, "cannot fetch the identity provider's keys");
    sendProblem(res, 'auth-unavailable', "the identity provider's keys cannot be fetched; retry later", instance, { errorId, headers: { 'Retry-After': '5' } });
    return;
  }
  logger?.error({ err, errorId }, 'API request failed');
  sendProblem(res, 'internal', 'an internal error occurred; quote errorId to the operator', instance, { errorId });
};
}
