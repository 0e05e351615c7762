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
import { createApiRouter, type ApiOptions } from './api.js';
import { createRevocationRouter } from './revocation-api.js';
import { routeGuard } from './auth.js';
import { CursorCodec } from './pagination.js';

export interface AnalystAppDeps extends ApiOptions {
  queries: Queries;
  revocations: { store: RevocationStore; blastRadius: BlastRadiusQueries };
  logger?: ApiOptions['logger'] & { info(obj: object, msg: string): void };
}

export function createAnalystApp(deps: AnalystAppDeps): express.Express {
  const { queries, revocations, ...options } = deps;
  const cursors = options.cursors ?? new CursorCodec();
  const guard = routeGuard(options.auth);
  const app = express();
  app.disable('x-powered-by');
  // Routers with their own paths first: the analyst API's router ends in the catch-all 404.
  app.use(createRevocationRouter({ ...revocations, guard, cursors, ...(options.logger ? { logger: options.logger } : {}) }));
  app.use(createApiRouter(queries, { ...options, cursors }));
  return app;
}
