/**
 * Alert routes, mounted beside the analyst API (schemas/alerts.md §5):
 *   GET  /api/alerts                         filtered, cursor-paginated list (viewer)
 *   GET  /api/alerts/:alertId                one alert with evidence and history (viewer)
 *   POST /api/alerts/:alertId/acknowledge    (responder)
 *   POST /api/alerts/:alertId/resolve        (responder)
 * Every answer is restricted to the caller's tenants; another tenant's alert
 * answers 404 like an unknown one. Parameters and bodies are hostile:
 * validated, bounded, and passed to the store as query parameters only.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { ALERT_KINDS, ALERT_STATES, SEVERITIES, type AlertKind, type AlertState, type Severity } from '../detect/alert.js';
import { AlertConflict, type AlertFilter, type AlertStore } from '../alert/store.js';
import { ApiProblem } from './problem.js';
import { apiErrorHandler, type ApiLogger } from './api-errors.js';
import { OPEN_PRINCIPAL, authorize, trustDomainsOf, type Principal, type Role } from './auth.js';
import { CursorCodec, MAX_CURSOR_CHARS, PAGE_LIMIT, parseLimit } from './pagination.js';
import { str, time } from './api.js';

export interface AlertsApiDeps {
  store: AlertStore;
  /** The caller of a request (the analyst API's bearer tokens); absent, every caller is an admin of every tenant (open mode). */
  authenticate?: (req: Request) => Promise<Principal>;
  cursors?: CursorCodec;
  logger?: ApiLogger;
}

export const MAX_NOTE_CHARS = 1024;
const ALERT_ID = /^[0-9a-f]{32}$/;

type Handler = (req: Request, res: Response, principal: Principal) => Promise<void>;

function oneOf<T extends string>(req: Request, name: string, allowed: readonly T[]): T | undefined {
  const v = str(req, name);
  if (v !== undefined && !(allowed as readonly string[]).includes(v)) throw new ApiProblem('invalid-request', `${name} must be one of ${allowed.join(', ')}`);
  return v as T | undefined;
}

/** The list's filters from the query string (tenants and position are added by the route). */
export function parseAlertFilter(req: Request): Omit<AlertFilter, 'tenants' | 'after'> {
  const f: Omit<AlertFilter, 'tenants' | 'after'> = {};
  const state = oneOf<AlertState>(req, 'state', ALERT_STATES);
  const kind = oneOf<AlertKind>(req, 'kind', ALERT_KINDS);
  const severity = oneOf<Severity>(req, 'severity', SEVERITIES);
  if (state) f.state = state;
  if (kind) f.kind = kind;
  if (severity) f.severity = severity;
  for (const name of ['agent', 'human', 'task'] as const) {
    const v = str(req, name);
    if (v !== undefined) f[name] = v;
  }
  const since = time(req, 'since');
  const until = time(req, 'until');
  if (since !== undefined) f.sinceMs = since;
  if (until !== undefined) f.untilMs = until;
  f.limit = parseLimit(str(req, 'limit'), PAGE_LIMIT.default);
  return f;
}

function alertIdOf(req: Request): string {
  const id = req.params.alertId;
  if (typeof id !== 'string' || !ALERT_ID.test(id)) throw new ApiProblem('invalid-request', 'alert id must be 32 lower-case hex characters');
  return id;
}

/** The note of an acknowledge or resolve body: `{note?}`, nothing else. */
function noteOf(body: unknown): string {
  if (body === undefined || body === null || (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0)) return '';
  if (typeof body !== 'object' || Array.isArray(body)) throw new ApiProblem('invalid-request', 'the body must be a JSON object: {"note": "…"}');
  const { note, ...rest } = body as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) throw new ApiProblem('invalid-request', `unknown field ${JSON.stringify(extra[0]!.slice(0, 64))}; the body holds only note`);
  if (note === undefined) return '';
  if (typeof note !== 'string' || note.length > MAX_NOTE_CHARS) throw new ApiProblem('invalid-request', `note must be a string of at most ${MAX_NOTE_CHARS} characters`);
  return note;
}

export function createAlertsRouter(deps: AlertsApiDeps): express.Router {
  const r = express.Router();
  const cursors = deps.cursors ?? new CursorCodec();
  const authenticate = deps.authenticate ?? (async () => OPEN_PRINCIPAL);
  const json = express.json({ limit: '8kb', strict: true });
  const wrap = (access: Role, h: Handler) => (req: Request, res: Response, next: NextFunction) => {
    (async () => {
      const principal = await authenticate(req);
      authorize(principal, access);
      await h(req, res, principal);
    })().catch(next);
  };

  r.get('/api/alerts', wrap('viewer', async (req, res, p) => {
    const f = parseAlertFilter(req);
    const scope = JSON.stringify(f);
    const raw = str(req, 'cursor', MAX_CURSOR_CHARS);
    const after = raw === undefined ? undefined : positionOf(cursors.decode('alerts', scope, raw, 2));
    const tenants = trustDomainsOf(p);
    const page = await deps.store.list({ ...f, ...(tenants ? { tenants } : {}), ...(after ? { after } : {}) });
    res.json({ alerts: page.items, nextCursor: page.next === null ? null : cursors.encode('alerts', scope, [page.next.lastSeen, page.next.id]) });
  }));

  r.get('/api/alerts/:alertId', wrap('viewer', async (req, res, p) => {
    const id = alertIdOf(req);
    const alert = await deps.store.get(id, trustDomainsOf(p));
    if (alert === undefined) throw new ApiProblem('not-found', `no alert ${id}`);
    res.json(alert);
  }));

  for (const action of ['acknowledge', 'resolve'] as const) {
    r.post(`/api/alerts/:alertId/${action}`, wrap('responder', async (req, res, p) => {
      const id = alertIdOf(req);
      // Authorized before the body is even parsed.
      await new Promise<void>((resolve, reject) => json(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
      const note = noteOf(req.body);
      // Who acted is the authenticated caller, never what the body claims.
      const actor = p.subject || 'anonymous';
      let alert;
      try {
        alert = await deps.store[action](id, actor, note, trustDomainsOf(p));
      } catch (err) {
        if (err instanceof AlertConflict) throw new ApiProblem('conflict', err.message);
        throw err;
      }
      if (alert === undefined) throw new ApiProblem('not-found', `no alert ${id}`);
      res.json(alert);
    }));
  }

  r.use(apiErrorHandler(deps.logger));
  return r;
}

/** A list position from a verified cursor: (lastSeen ms, id). */
function positionOf([lastSeen, id]: string[]): { lastSeen: string; id: string } {
  if (!/^\d{1,15}$/.test(lastSeen!) || !ALERT_ID.test(id!)) throw new ApiProblem('invalid-cursor', 'cursor is from another version of this list; start again without it');
  return { lastSeen: lastSeen!, id: id! };
}
