/**
 * Revocation and blast-radius routes, mounted beside the analyst API:
 *   POST /api/revocations                 revoke a link, an agent or a key
 *   GET  /api/revocations[?kind=&target=] revocations, newest first
 *   GET  /api/blast-radius/:kind/:id      link | agent | human
 * Bodies and parameters are hostile: validated, bounded, and passed to the
 * store as query parameters only.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { ApiProblem } from './problem.js';
import { apiErrorHandler } from './api-errors.js';
import { REVOCATION_KINDS, RevocationRequestError, parseRevocationRequest, type RevocationKind } from '../revoke/model.js';
import type { RevocationStore } from '../revoke/store.js';
import { BLAST_SUBJECTS, type BlastRadiusQueries, type BlastSubject } from '../revoke/blast-radius.js';

/**
 * Authenticates and authorizes a request for a least role, answering with the
 * caller (the analyst API's own guard); absent, every caller is allowed (loopback-only open mode).
 */
export type RouteGuard = (req: Request, access: 'responder' | 'admin') => Promise<{ subject: string; anonymous?: boolean }>;

export interface RevocationApiDeps {
  store: RevocationStore;
  blastRadius: BlastRadiusQueries;
  guard?: RouteGuard;
  logger?: { info(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

const MAX_ID = 512;

function oneString(v: unknown, name: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_ID) throw new ApiProblem('invalid-request', `${name} must be given once, 1 to ${MAX_ID} characters`);
  return v;
}

type Handler = (req: Request, res: Response, next: NextFunction) => Promise<void>;
const wrap = (h: Handler) => (req: Request, res: Response, next: NextFunction) => h(req, res, next).catch(next);

export function createRevocationRouter(deps: RevocationApiDeps): express.Router {
  const r = express.Router();
  const json = express.json({ limit: '16kb', strict: true });

  const guard: RouteGuard = deps.guard ?? (async () => ({ subject: 'anonymous', anonymous: true }));
  r.post('/api/revocations', wrap(async (req, res, next) => {
    // Authorized before the body is even parsed.
    const caller = await guard(req, 'responder');
    await new Promise<void>((resolve, reject) => json(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
    let request;
    try {
      request = parseRevocationRequest(req.body, Date.now());
    } catch (err) {
      if (err instanceof RevocationRequestError) throw new ApiProblem('invalid-request', err.message);
      throw err;
    }
    // Who revoked is the authenticated caller, never what the body claims.
    if (!caller.anonymous) request = { ...request, revokedBy: caller.subject };
    void next;
    const revocation = await deps.store.revoke(request);
    deps.logger?.info({ revocation }, 'revoked');
    res.status(201).json({ revocation });
  }));

  r.get('/api/revocations', wrap(async (req, res) => {
    await guard(req, 'responder');
    const kind = oneString(req.query.kind, 'kind');
    if (kind !== undefined && !(REVOCATION_KINDS as readonly string[]).includes(kind)) throw new ApiProblem('invalid-request', `kind must be one of ${REVOCATION_KINDS.join(', ')}`);
    const target = oneString(req.query.target, 'target');
    res.json({ revocations: await deps.store.list({ ...(kind ? { kind: kind as RevocationKind } : {}), ...(target ? { target } : {}) }) });
  }));

  r.get('/api/blast-radius/:kind/:id', wrap(async (req, res) => {
    // Answers across tasks and trust domains: admin only until it is tenant-scoped.
    await guard(req, 'admin');
    const kind = String(req.params.kind);
    if (!(BLAST_SUBJECTS as readonly string[]).includes(kind)) throw new ApiProblem('invalid-request', `kind must be one of ${BLAST_SUBJECTS.join(', ')}`);
    const id = oneString(req.params.id, 'id')!;
    res.json(await deps.blastRadius.of(kind as BlastSubject, id));
  }));

  r.use(apiErrorHandler(deps.logger));
  return r;
}
