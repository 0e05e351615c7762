import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type Request, type Response, type NextFunction } from 'express';
import { toPage, type Queries, type TaskFilter } from '../store/queries.js';
import type { Metrics } from './metrics.js';
import type { QuarantineFilter, QuarantineRow } from '../store/quarantine.js';
import { toOpaEvent, type DecisionQuery, type StoredDecision } from '../store/decisions.js';
import { buildTaskTree } from './tree.js';
import { renderTaskTree } from './render-tree.js';
import { ApiProblem, sendProblem } from './problem.js';
import { CursorCodec, MAX_CURSOR_CHARS, PAGE_LIMIT, cursorPosition, listCursor, parseLimit } from './pagination.js';
import { OPEN_PRINCIPAL, routeGuard, trustDomainsOf, type Access, type Authenticator, type Principal, type Tenancy } from './auth.js';
import { OPENAPI_DOCUMENT } from './openapi.js';
import { ALERT_KINDS } from '../detect/alert.js';
import { apiErrorHandler, instanceOf, type ApiLogger } from './api-errors.js';

export type { ApiLogger } from './api-errors.js';

const MAX_ID = 512;

/** One query parameter, given at most once and bounded. */
export function str(req: Request, name: string, max = MAX_ID): string | undefined {
  const v = req.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new ApiProblem('invalid-request', `${name} must be given once`);
  if (v.length > max) throw new ApiProblem('invalid-request', `${name} is longer than ${max} characters`);
  return v;
}

/** A query parameter holding a time: ISO-8601 or epoch milliseconds. */
const MIN_TIME_MS = Date.UTC(1900, 0, 1);
const MAX_TIME_MS = Date.UTC(2262, 0, 1);

export function time(req: Request, name: string): number | undefined {
  const v = str(req, name);
  if (v === undefined) return undefined;
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  // Within what the store's times hold (DateTime64: 1900 to 2262 covers both precisions): beyond it a comparison overflows in the engine.
  if (!Number.isSafeInteger(ms) || ms < MIN_TIME_MS || ms >= MAX_TIME_MS) {
    throw new ApiProblem('invalid-request', `${name} must be an ISO-8601 time or epoch milliseconds between 1900 and 2262`);
  }
  return ms;
}

export function parseTaskFilter(req: Request): TaskFilter {
  const f: TaskFilter = {};
  const from = time(req, 'from');
  const to = time(req, 'to');
  if (from !== undefined) f.fromMs = from;
  if (to !== undefined) f.toMs = to;
  const human = str(req, 'human');
  const agent = str(req, 'agent');
  if (human !== undefined) f.human = human;
  if (agent !== undefined) f.agent = agent;
  const verdict = str(req, 'verdict');
  if (verdict !== undefined) {
    if (verdict !== 'verified' && verdict !== 'failed') throw new ApiProblem('invalid-request', 'verdict must be verified or failed');
    f.verdict = verdict;
  }
  const alert = str(req, 'alert');
  if (alert !== undefined) {
    if (alert !== 'any' && !(ALERT_KINDS as readonly string[]).includes(alert)) throw new ApiProblem('invalid-request', 'alert must be any or an alert kind (see /openapi.json)');
    f.alert = alert;
  }
  f.limit = parseLimit(str(req, 'limit'), PAGE_LIMIT.default);
  return f;
}

/** A path parameter, 1 to 512 characters. */
export function pathParam(req: Request, name: string): string {
  const v = req.params[name];
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_ID) throw new ApiProblem('invalid-request', `${name} must be 1 to ${MAX_ID} characters`);
  return v;
}


/** Rows the store refused, kept with their error (src/store/quarantine.ts). */
export type QuarantineLookup = (filter: QuarantineFilter) => Promise<QuarantineRow[]>;

export interface ApiOptions {
  metrics?: Metrics;
  /** The policy decision log; its routes exist only with it. */
  decisions?: (q: DecisionQuery) => Promise<StoredDecision[]>;
  /** The quarantine of rows the store refused (OTLP/HTTP path); the route exists only with it. */
  quarantine?: QuarantineLookup;
  logger?: ApiLogger;
  /** Bearer JWT verification; without it the API is open (every caller an admin of every tenant). */
  auth?: Authenticator;
  /** Signs pagination cursors; a per-process random key when absent. */
  cursors?: CursorCodec;
  /** A static bearer secret /metrics also accepts, for scrapers that cannot hold a short-lived JWT. */
  metricsToken?: string;
}

export type Handler = (req: Request, res: Response, principal: Principal) => Promise<void> | void;


/**
 * The analyst API: tasks, one task's action tree and actions, an agent's
 * delegations, metrics, and its own OpenAPI document. Every route states its
 * access (open, or a least role); every guarded query carries the caller's
 * trust domains.
 */
export function createApiRouter(queries: Queries, opts: ApiOptions = {}): express.Router {
  const { metrics, logger, auth } = opts;
  const cursors = opts.cursors ?? new CursorCodec();
  const r = express.Router();

  const route = guardedRoutes(r, auth);
  const page = cursorPager(cursors);

  route('/healthz', 'open', (_req, res) => { res.json({ status: 'ok' }); });

  route('/openapi.json', 'open', (_req, res) => { res.json(OPENAPI_DOCUMENT); });

  route('/api/tasks', 'viewer', async (req, res, p) => {
    const f = parseTaskFilter(req);
    const c = page(req, 'tasks', f);
    const result = await queries.listTasks({ ...f, ...(c.after !== undefined ? { cursor: c.after } : {}), ...tenants(p) });
    res.json({ tasks: result.tasks, nextCursor: c.next(result.nextCursor) });
  });

  route('/api/tasks/:taskId/tree', 'viewer', async (req, res, p) => {
    const taskId = pathParam(req, 'taskId');
    const format = str(req, 'format') ?? 'json';
    const listActions = str(req, 'actions') ?? 'false';
    if (format !== 'json' && format !== 'text') throw new ApiProblem('invalid-request', 'format must be json or text');
    if (listActions !== 'true' && listActions !== 'false') throw new ApiProblem('invalid-request', 'actions must be true or false');
    const actions = await queries.taskActions(taskId, tenants(p));
    // Another tenant's task and a task never seen answer alike: nothing says which.
    if (actions.length === 0) throw new ApiProblem('not-found', `no actions recorded for task ${taskId}`);
    const tree = buildTaskTree(taskId, actions);
    if (format === 'text') {
      res.type('text/plain').send(renderTaskTree(tree, { actions: listActions === 'true' }) + '\n');
      return;
    }
    res.json(tree);
  });

  route('/api/tasks/:taskId/actions', 'viewer', async (req, res, p) => {
    const taskId = pathParam(req, 'taskId');
    const limit = parseLimit(str(req, 'limit'), PAGE_LIMIT.max);
    const c = page(req, 'actions', { taskId, limit });
    const after = c.after === undefined ? undefined : cursorPosition(c.after, ['ts', 'spanId']);
    const result = await queries.taskActionPage(taskId, { limit, ...(after ? { after } : {}), ...tenants(p) });
    res.json({ taskId, actions: result.items, nextCursor: c.next(result.next && JSON.stringify(result.next)) });
  });

  route('/api/agents/:agentId/delegations', 'viewer', async (req, res, p) => {
    const agentId = pathParam(req, 'agentId');
    const limit = parseLimit(str(req, 'limit'), 500);
    const c = page(req, 'delegations', { agentId, limit });
    const after = c.after === undefined ? undefined : cursorPosition(c.after, ['issuedAt', 'linkHash']);
    const result = await queries.agentDelegations(agentId, { limit, ...(after ? { after } : {}), ...tenants(p) });
    res.json({ agentId, delegations: result.items, nextCursor: c.next(result.next && JSON.stringify(result.next)) });
  });

  const decisions = opts.decisions;
  if (decisions) {
    const formatOf = (req: Request): 'chainsight' | 'opa' => {
      const f = str(req, 'format') ?? 'chainsight';
      if (f !== 'chainsight' && f !== 'opa') throw new ApiProblem('invalid-request', 'format must be chainsight or opa');
      return f;
    };
    route('/api/tasks/:taskId/decisions', 'viewer', async (req, res, p) => {
      const taskId = pathParam(req, 'taskId');
      const format = formatOf(req);
      const limit = parseLimit(str(req, 'limit'), PAGE_LIMIT.default);
      const c = page(req, 'decisions', { taskId, format, limit });
      const after = c.after === undefined ? undefined : cursorPosition(c.after, ['ts', 'spanId']);
      const rows = await decisions({ taskId, limit: limit + 1, ...(after ? { after } : {}), ...tenants(p) });
      const { items, next } = toPage(rows, limit, (d) => JSON.stringify({ ts: d.ts, spanId: d.span_id }));
      const nextCursor = c.next(next);
      if (format === 'opa') res.json({ taskId, events: items.map(toOpaEvent), nextCursor });
      else res.json({ taskId, decisions: items.map(decisionView), nextCursor });
    });
    route('/api/tasks/:taskId/actions/:spanId/decision', 'viewer', async (req, res, p) => {
      const taskId = pathParam(req, 'taskId');
      const spanId = pathParam(req, 'spanId');
      const format = formatOf(req);
      const [d] = await decisions({ taskId, spanId, limit: 1, ...tenants(p) });
      if (d === undefined) throw new ApiProblem('not-found', `no policy decision recorded for span ${spanId} of task ${taskId}`);
      res.json(format === 'opa' ? { event: toOpaEvent(d) } : { decision: decisionView(d) });
    });
  }

  const quarantine = opts.quarantine;
  if (quarantine) {
    // Refused rows are raw input of any tenant: an admin for every tenant only.
    route('/api/quarantine', 'admin', async (req, res) => {
      const limit = parseLimit(str(req, 'limit'), 100);
      const f: QuarantineFilter = { limit: limit + 1 };
      const task = str(req, 'task');
      const traceId = str(req, 'trace');
      const from = time(req, 'from');
      const to = time(req, 'to');
      if (task !== undefined) f.taskId = task;
      if (traceId !== undefined) f.traceId = traceId;
      if (from !== undefined) f.fromMs = from;
      if (to !== undefined) f.toMs = to;
      const c = page(req, 'quarantine', { task, traceId, from, to, limit });
      if (c.after !== undefined) f.before = cursorPosition(c.after, ['receivedAt', 'traceId', 'spanId', 'table']);
      const rows = await quarantine(f);
      const { items, next } = toPage(rows, limit, (q) => JSON.stringify({ receivedAt: String(q.received_at), traceId: q.trace_id, spanId: q.span_id, table: q.table_name }));
      res.json({ quarantined: items, nextCursor: c.next(next) });
    }, 'every');
  }

  if (metrics) {
    // Every tenant's counts in one exposition: an admin for every tenant only.
    const scraper = opts.metricsToken === undefined ? undefined : sameSecret(`Bearer ${opts.metricsToken}`);
    route('/metrics', 'admin', async (_req, res) => {
      res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    }, 'every', scraper);
  }

  r.use((req: Request, res: Response) => {
    sendProblem(res, 'not-found', `no route ${req.method} ${instanceOf(req)}`, instanceOf(req));
  });

  r.use(apiErrorHandler(logger));
  return r;
}

/** A constant-time check of a header against one secret value (digests: equal lengths whatever was sent). */
function sameSecret(expected: string): (given: string | undefined) => boolean {
  const want = createHash('sha256').update(expected).digest();
  return (given) => given !== undefined && timingSafeEqual(createHash('sha256').update(given).digest(), want);
}

/** A stored decision as the API shows it: reasons zipped, the logged input left to the OPA export. */
function decisionView(d: StoredDecision) {
  return {
    decision_id: d.decision_id, ts: d.ts, trace_id: d.trace_id, span_id: d.span_id, agent_id: d.agent_id,
    policy_version: d.policy_version, revision: d.revision, result: d.result, rules: d.rules,
    reasons: d.reason_codes.map((code, i) => ({ code, ...((d.reason_links[i] ?? -1) >= 0 ? { link: d.reason_links[i]! } : {}), message: d.reason_details[i] ?? '' })),
    link_hashes: d.link_hashes, decided_at: d.decided_at,
  };
}


/**
 * Registers GET routes that state their access: the caller is authenticated
 * (unless the route is open, the API runs open, or `alsoAccepts` lets the
 * header in) and authorized before the handler runs. Shared by every router of the API.
 */
export function guardedRoutes(r: express.Router, auth: Authenticator | undefined) {
  const guard = routeGuard(auth);
  return (path: string, access: Access, h: Handler, tenancy: Tenancy = 'own', alsoAccepts?: (authorization: string | undefined) => boolean) => {
    r.get(path, (req: Request, res: Response, next: NextFunction) => {
      (async () => {
        const principal = alsoAccepts?.(req.headers.authorization) === true ? OPEN_PRINCIPAL : await guard(req, access, tenancy);
        await h(req, res, principal);
      })().catch(next);
    });
  };
}

/** A list's cursor: the store's position, signed over the route and its filters. */
export function cursorPager(cursors: CursorCodec) {
  return (req: Request, list: string, scope: object) => listCursor(cursors, list, scope, str(req, 'cursor', MAX_CURSOR_CHARS));
}

/** The tenant restriction a store query takes for this caller. */
export function tenants(p: Principal): { trustDomains?: string[] } {
  const tds = trustDomainsOf(p);
  return tds === undefined ? {} : { trustDomains: tds };
}
