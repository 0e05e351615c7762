/**
 * The console's views beyond the task list, mounted beside the analyst API
 * with its conventions (viewer role, tenant filter, problem+json, signed
 * cursors, documented in openapi.ts):
 *   GET /api/graph                                     delegation edges with counts, invalid and unexpected marked
 *   GET /api/graph/edges/{delegator}/{delegatee}/tasks the tasks that used one edge
 *   GET /api/agents/{agentId}/scopes                   granted against used scope, per time bucket
 *   GET /api/tasks/{taskId}/actions/{spanId}/chain     one action's chain, link by link
 */
import express, { type Request, type Response } from 'express';
import type { GraphQueries } from '../store/graph-queries.js';
import { ApiProblem } from './problem.js';
import { apiErrorHandler, type ApiLogger } from './api-errors.js';
import { CursorCodec, PAGE_LIMIT, parseLimit } from './pagination.js';
import type { Authenticator } from './auth.js';
import type { ScopeMatcher } from '../verify/scope.js';
import type { AlertStore } from '../alert/store.js';
import { actionChain, buildGraph, scopeHistory } from './graph.js';
import { cursorPager, guardedRoutes, pathParam, str, time, tenants } from './api.js';

export interface GraphApiOptions {
  auth?: Authenticator;
  cursors?: CursorCodec;
  logger?: ApiLogger;
  /** Scope coverage as the verifier decides it (the policy's implications); plain patterns when absent. */
  scopes?: ScopeMatcher;
  /** Subjects (`from -> to`) of first-seen-edge alerts active since `fromMs`, of these trust domains; none when absent. */
  newEdges?: (q: { trustDomains?: string[]; fromMs?: number }) => Promise<string[]>;
}

/** Bucket sizes the scope history accepts: a minute to a week. */
export const SCOPE_BUCKET_SEC = { min: 60, max: 7 * 86_400, default: 3_600 } as const;

type Handler = (req: Request, res: Response, tenancy: { trustDomains?: string[] }) => Promise<void>;

export function createGraphRouter(queries: GraphQueries, opts: GraphApiOptions = {}): express.Router {
  const cursors = opts.cursors ?? new CursorCodec();
  const r = express.Router();

  const route = guardedRoutes(r, opts.auth);
  const viewer = (path: string, h: Handler) => route(path, 'viewer', (req, res, p) => h(req, res, tenants(p)));
  const page = cursorPager(cursors);

  const range = (req: Request) => {
    const fromMs = time(req, 'from');
    const toMs = time(req, 'to');
    return { ...(fromMs !== undefined ? { fromMs } : {}), ...(toMs !== undefined ? { toMs } : {}) };
  };

  viewer('/api/graph', async (req, res, t) => {
    const w = range(req);
    const limit = parseLimit(str(req, 'limit'), PAGE_LIMIT.max);
    const c = page(req, 'graph', { ...w, limit });
    const [links, acts, alerted] = await Promise.all([
      queries.linkEdges({ ...w, ...t }), queries.actionEdges({ ...w, ...t }),
      opts.newEdges ? opts.newEdges({ ...t, ...(w.fromMs !== undefined ? { fromMs: w.fromMs } : {}) }) : [],
    ]);
    const graph = buildGraph(links, acts, new Set(alerted));
    // Edges are few (pairs of agents): built whole, then paged by their (from, to) key.
    const key = (e: { from: string; to: string }) => JSON.stringify([e.from, e.to]);
    const rest = c.after === undefined ? graph.edges : graph.edges.filter((e) => key(e) > c.after!);
    const edges = rest.slice(0, limit);
    const ids = new Set(edges.flatMap((e) => [e.from, e.to]));
    res.json({
      nodes: graph.nodes.filter((n) => ids.has(n.id)),
      edges,
      nextCursor: c.next(rest.length > limit ? key(edges[edges.length - 1]!) : undefined),
    });
  });

  viewer('/api/graph/edges/:delegator/:delegatee/tasks', async (req, res, t) => {
    const delegator = pathParam(req, 'delegator');
    const delegatee = pathParam(req, 'delegatee');
    const w = range(req);
    const limit = parseLimit(str(req, 'limit'), PAGE_LIMIT.default);
    const c = page(req, 'edge-tasks', { delegator, delegatee, ...w, limit });
    const rows = await queries.edgeTasks(delegator, delegatee, { ...w, ...t, limit, ...(c.after !== undefined ? { after: c.after } : {}) });
    const tasks = rows.slice(0, limit);
    res.json({ delegator, delegatee, tasks, nextCursor: c.next(rows.length > limit ? tasks[tasks.length - 1]!.task_id : undefined) });
  });

  viewer('/api/agents/:agentId/scopes', async (req, res, t) => {
    const agentId = pathParam(req, 'agentId');
    const w = range(req);
    const bucketSec = bucketOf(str(req, 'bucket'));
    const limit = parseLimit(str(req, 'limit'), PAGE_LIMIT.default);
    const c = page(req, 'scopes', { agentId, ...w, bucketSec, limit });
    const { buckets, uses } = await queries.scopeBuckets(agentId, bucketSec, { ...w, ...t, limit, ...(c.after !== undefined ? { after: c.after } : {}) });
    const kept = buckets.slice(0, limit);
    res.json({
      agentId, bucketSeconds: bucketSec, buckets: scopeHistory(kept, uses, opts.scopes),
      nextCursor: c.next(buckets.length > limit ? kept[kept.length - 1]!.start : undefined),
    });
  });

  viewer('/api/tasks/:taskId/actions/:spanId/chain', async (req, res, t) => {
    const taskId = pathParam(req, 'taskId');
    const spanId = pathParam(req, 'spanId');
    const found = await queries.actionChain(taskId, spanId, t);
    // Another tenant's action and one never seen answer alike.
    if (found === undefined) throw new ApiProblem('not-found', `no action ${spanId} recorded for task ${taskId}`);
    const links = await queries.links(found.linkHashes);
    res.json(actionChain(taskId, found.action, found.linkHashes, links));
  });

  r.use(apiErrorHandler(opts.logger));
  return r;
}

function bucketOf(raw: string | undefined): number {
  if (raw === undefined) return SCOPE_BUCKET_SEC.default;
  const n = /^\d{1,7}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= SCOPE_BUCKET_SEC.min && n <= SCOPE_BUCKET_SEC.max)) {
    throw new ApiProblem('invalid-request', `bucket must be whole seconds from ${SCOPE_BUCKET_SEC.min} to ${SCOPE_BUCKET_SEC.max}`);
  }
  return n;
}

/** First-seen-edge alerts (not resolved) from the alert store, as the graph marks them. */
export function newEdgeAlerts(alerts: Pick<AlertStore, 'list'>): NonNullable<GraphApiOptions['newEdges']> {
  return async ({ trustDomains, fromMs }) => {
    const subjects: string[] = [];
    for (const state of ['open', 'acknowledged'] as const) {
      const page = await alerts.list({ kind: 'delegation.new_edge', state, limit: 1000, ...(trustDomains ? { tenants: trustDomains } : {}), ...(fromMs !== undefined ? { sinceMs: fromMs } : {}) });
      for (const a of page.items) subjects.push(a.subject);
    }
    return subjects;
  };
}
