/**
 * Every router of the analyst API in one express app: what the runtime
 * serves and what the contract and authorization tests walk, so a router
 * mounted here is in the served OpenAPI document's check whether or not its
 * author remembered to document it.
 */
import express from 'express';
import type { Queries } from '../store/queries.js';
import type { RevocationStore } from '../revoke/store.js';
import type { BlastRadiusQueries } from '../revoke/blast-radius.js';
import type { AlertStore } from '../alert/store.js';
import type { GraphQueries } from '../store/graph-queries.js';
import type { ScopeMatcher } from '../verify/scope.js';
import { createApiRouter, type ApiOptions } from './api.js';
import { createRevocationRouter } from './revocation-api.js';
import { createAlertsRouter } from './alerts-api.js';
import { createGraphRouter, newEdgeAlerts } from './graph-api.js';
import { serveConsole } from './console-static.js';
import { OPEN_PRINCIPAL, routeGuard } from './auth.js';
import { CursorCodec } from './pagination.js';

export interface AnalystAppDeps extends ApiOptions {
  queries: Queries;
  revocations: { store: RevocationStore; blastRadius: BlastRadiusQueries };
  alerts: AlertStore;
  graph: GraphQueries;
  /** Scope coverage as the verifier decides it (the policy's implications), for the agent scope view. */
  scopes?: ScopeMatcher;
  /** Serve the built console at /console/ (the runtime does; API tests need not). */
  console?: boolean;
  logger?: ApiOptions['logger'] & { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

export function createAnalystApp(deps: AnalystAppDeps): express.Express {
  const { queries, revocations, alerts, graph, scopes, console: withConsole, ...options } = deps;
  const cursors = options.cursors ?? new CursorCodec();
  const guard = routeGuard(options.auth);
  const logger = options.logger;
  const app = express();
  app.disable('x-powered-by');
  // Routers with their own paths first: the analyst API's router ends in the catch-all 404.
  app.use(createRevocationRouter({ ...revocations, guard, cursors, ...(logger ? { logger } : {}) }));
  // Alerts: viewer reads, responder acknowledge/resolve, each restricted to the caller's tenants.
  const auth = options.auth;
  app.use(createAlertsRouter({
    store: alerts,
    cursors,
    ...(logger ? { logger } : {}),
    authenticate: async (req) => (auth === undefined ? OPEN_PRINCIPAL : auth.authenticate(req.headers.authorization)),
  }));
  // The analyst console: static files only; every datum it shows comes through the guarded routes.
  if (withConsole) app.use(serveConsole(logger));
  // The console's graph, scope-history and chain views.
  app.use(createGraphRouter(graph, {
    ...(auth ? { auth } : {}), cursors, ...(logger ? { logger } : {}), ...(scopes ? { scopes } : {}),
    newEdges: newEdgeAlerts(alerts),
  }));
  app.use(createApiRouter(queries, { ...options, cursors }));
  return app;
}
