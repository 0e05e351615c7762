import { randomUUID } from 'node:crypto';
import express, { type Request, type Response, type NextFunction } from 'express';
import { isStoreUnavailable } from '../store/availability.js';
import type { Queries, TaskFilter } from '../store/queries.js';
import type { Metrics } from './metrics.js';
import { buildTaskTree } from './tree.js';
import { renderTaskTree } from './render-tree.js';

/** A client mistake in a query string: answered 400 with the reason. */
class BadRequest extends Error {}

const MAX_ID = 512;

function str(req: Request, name: string): string | undefined {
  const v = req.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new BadRequest(`${name} must be given once`);
  if (v.length > MAX_ID) throw new BadRequest(`${name} is longer than ${MAX_ID} characters`);
  return v;
}

function time(req: Request, name: string): number | undefined {
  const v = str(req, name);
  if (v === undefined) return undefined;
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(ms)) throw new BadRequest(`${name} must be an ISO-8601 time or epoch milliseconds`);
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
    if (verdict !== 'verified' && verdict !== 'failed') throw new BadRequest('verdict must be verified or failed');
    f.verdict = verdict;
  }
  const limit = str(req, 'limit');
  if (limit !== undefined) {
    if (!/^\d{1,4}$/.test(limit) || Number(limit) < 1) throw new BadRequest('limit must be an integer from 1 to 1000');
    f.limit = Number(limit);
  }
  return f;
}

function pathParam(req: Request, name: string): string {
  const v = req.params[name];
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_ID) throw new BadRequest(`${name} must be 1 to ${MAX_ID} characters`);
  return v;
}

type Handler = (req: Request, res: Response) => Promise<void>;
const wrap = (h: Handler) => (req: Request, res: Response, next: NextFunction) => h(req, res).catch(next);

/** The subset of a pino logger the API uses. */
export interface ApiLogger {
  error(obj: object, msg: string): void;
}

/** The analyst API: tasks, one task's action tree, an agent's delegations, metrics. */
export function createApiRouter(queries: Queries, metrics?: Metrics, logger?: ApiLogger): express.Router {
  const r = express.Router();

  r.get('/healthz', (_req, res) => { res.json({ status: 'ok' }); });

  r.get('/api/tasks', wrap(async (req, res) => {
    const page = await queries.listTasks(parseTaskFilter(req));
    res.json({ tasks: page.tasks, nextCursor: page.nextCursor });
  }));

  r.get('/api/tasks/:taskId/tree', wrap(async (req, res) => {
    const taskId = pathParam(req, 'taskId');
    const actions = await queries.taskActions(taskId);
    if (actions.length === 0) {
      res.status(404).json({ error: `no actions recorded for task ${taskId}` });
      return;
    }
    const tree = buildTaskTree(taskId, actions);
    if (req.query.format === 'text') {
      res.type('text/plain').send(renderTaskTree(tree, { actions: req.query.actions === 'true' }) + '\n');
      return;
    }
    res.json(tree);
  }));

  r.get('/api/tasks/:taskId/actions', wrap(async (req, res) => {
    const taskId = pathParam(req, 'taskId');
    res.json({ taskId, actions: await queries.taskActions(taskId) });
  }));

  r.get('/api/agents/:agentId/delegations', wrap(async (req, res) => {
    const agentId = pathParam(req, 'agentId');
    const limit = str(req, 'limit');
    if (limit !== undefined && !/^\d{1,4}$/.test(limit)) throw new BadRequest('limit must be an integer from 1 to 1000');
    res.json({ agentId, delegations: await queries.agentDelegations(agentId, limit ? Number(limit) : undefined) });
  }));

  if (metrics) {
    r.get('/metrics', wrap(async (_req, res) => {
      res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    }));
  }

  r.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof BadRequest) {
      res.status(400).json({ error: err.message });
      return;
    }
    // Internal text (SQL, stack, engine messages) stays in the log; the caller gets an id to quote.
    const errorId = randomUUID();
    if (isStoreUnavailable(err)) {
      logger?.error({ err, errorId }, 'store unavailable for an API request');
      res.status(503).setHeader('Retry-After', '5').json({ error: 'store unavailable, retry later', errorId });
      return;
    }
    logger?.error({ err, errorId }, 'API request failed');
    res.status(500).json({ error: 'internal error', errorId });
  });
  return r;
}
