/**
 * Revocation and blast-radius routes, mounted beside the analyst API:
 *   POST /api/revocations                 revoke a link, an agent or a key
 *   GET  /api/revocations[?kind=&target=] revocations, newest first, cursor-paged
 *   GET  /api/blast-radius/:kind/:id      link | agent | human
 * Bodies and parameters are hostile: validated, bounded, and passed to the
 * store as query parameters only. Every route acts or answers across trust
 * domains (a revoked key fails chains of any tenant; blast radius follows a
 * chain wherever it went), so each needs a token for every tenant.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { ApiProblem } from './problem.js';
import { apiErrorHandler } from './api-errors.js';
import { routeGuard, type RouteGuard } from './auth.js';
import { CursorCodec, MAX_CURSOR_CHARS, PAGE_LIMIT, cursorPosition, listCursor, parseLimit } from './pagination.js';
import { toPage } from '../store/queries.js';
import { REVOCATION_KINDS, RevocationRequestError, parseRevocationRequest, type RevocationKind } from '../revoke/model.js';
import type { RevocationStore, StoredRevocation } from '../revoke/store.js';
import { BLAST_SUBJECTS, type BlastRadiusQueries, type BlastSubject } from '../revoke/blast-radius.js';

export interface RevocationApiDeps {
  store: RevocationStore;
  blastRadius: BlastRadiusQueries;
  /** Authentication and authorization; absent, every caller is allowed (loopback-only open mode). */
  guard?: RouteGuard;
  /** Signs the list's cursors; a per-process random key when absent. */
  cursors?: CursorCodec;
  logger?: { info(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

const MAX_ID = 512;

function oneString(v: unknown, name: string, max = MAX_ID): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw new ApiProblem('invalid-request', `${name} must be given once, 1 to ${max} characters`);
  return v;
}

type Handler = (req: Request, res: Response) => Promise<void>;
const wrap = (h: Handler) => (req: Request, res: Response, next: NextFunction) => h(req, res).catch(next);

/** A revocation as the API shows it: the store's insertion time is the watcher's business. */
const revocationView = ({ insertedAtMs: _, ...r }: StoredRevocation) => r;

export function createRevocationRouter(deps: RevocationApiDeps): express.Router {
  const r = express.Router();
  const json = express.json({ limit: '16kb', strict: true });
  const guard = deps.guard ?? routeGuard(undefined);
  const cursors = deps.cursors ?? new CursorCodec();

  r.post('/api/revocations', wrap(async (req, res) => {
    // Authorized before the body is even parsed.
    const caller = await guard(req, 'responder', 'every');
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
    const revocation = await deps.store.revoke(request);
    deps.logger?.info({ revocation }, 'revoked');
    res.status(201).json({ revocation });
  }));

  r.get('/api/revocations', wrap(async (req, res) => {
    await guard(req, 'responder', 'every');
    const kind = oneString(req.query.kind, 'kind');
    if (kind !== undefined && !(REVOCATION_KINDS as readonly string[]).includes(kind)) throw new ApiProblem('invalid-request', `kind must be one of ${REVOCATION_KINDS.join(', ')}`);
    const target = oneString(req.query.target, 'target');
    const limit = parseLimit(oneString(req.query.limit, 'limit'), PAGE_LIMIT.default);
    const c = listCursor(cursors, 'revocations', { kind, target, limit }, oneString(req.query.cursor, 'cursor', MAX_CURSOR_CHARS));
    const at = c.after === undefined ? undefined : cursorPosition(c.after, ['revokedAtMs', 'id']);
    const after = at === undefined ? undefined : { revokedAtMs: Number(at.revokedAtMs), id: at.id };
    if (after !== undefined && !Number.isSafeInteger(after.revokedAtMs)) throw new ApiProblem('invalid-cursor', 'cursor is from another version of this list; start again without it');
    const rows = await deps.store.list({ ...(kind ? { kind: kind as RevocationKind } : {}), ...(target ? { target } : {}), ...(after ? { after } : {}), limit: limit + 1 });
    const { items, next } = toPage(rows, limit, (v) => JSON.stringify({ revokedAtMs: String(v.revokedAtMs), id: v.id }));
    res.json({ revocations: items.map(revocationView), nextCursor: c.next(next) });
  }));

  r.get('/api/blast-radius/:kind/:id', wrap(async (req, res) => {
    await guard(req, 'admin', 'every');
    const kind = String(req.params.kind);
    if (!(BLAST_SUBJECTS as readonly string[]).includes(kind)) throw new ApiProblem('invalid-request', `kind must be one of ${BLAST_SUBJECTS.join(', ')}`);
    const id = oneString(req.params.id, 'id')!;
    res.json(await deps.blastRadius.of(kind as BlastSubject, id));
  }));

  r.use(apiErrorHandler(deps.logger));
  return r;
}
