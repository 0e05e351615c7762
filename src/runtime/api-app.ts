import express from 'express';
import type { ChainsightConfig } from '../config/config.js';
import { ConfigError } from '../config/env.js';
import { createApiRouter } from '../serve/api.js';
import { Authenticator, OPEN_PRINCIPAL, authorize } from '../serve/auth.js';
import { createRevocationRouter } from '../serve/revocation-api.js';
import { createAlertsRouter } from '../serve/alerts-api.js';
import { isLoopbackHost } from '../serve/jwks.js';
import { CursorCodec } from '../serve/pagination.js';
import type { Pipeline } from './pipeline.js';
import { findDecisions } from '../store/decisions.js';
import type { Logger } from './logger.js';

/** How the analyst API is exposed: with authentication, or open (and why that is allowed). */
export type ApiExposure = 'authenticated' | 'open-loopback' | 'open-insecure';

/**
 * Whether the API may start as configured. Open is the embedded default on a
 * loopback address only; anywhere else it needs authentication, or the
 * explicit CHAINSIGHT_API_INSECURE=true override. Fails closed: an address
 * that is not plainly loopback (0.0.0.0, ::, a host name) counts as exposed.
 */
export function apiExposure(host: string, access: Pick<ChainsightConfig['apiAccess'], 'auth' | 'insecure'>): ApiExposure {
  if (access.auth !== undefined) return 'authenticated';
  if (isLoopbackHost(host) && host !== 'localhost') return 'open-loopback';
  if (access.insecure) return 'open-insecure';
  throw new ConfigError([
    `refusing to serve the analyst API on ${host} without authentication: configure CHAINSIGHT_AUTH_ISSUER, CHAINSIGHT_AUTH_AUDIENCE and ` +
      'CHAINSIGHT_AUTH_JWKS_URL (or _FILE), bind to 127.0.0.1, or set CHAINSIGHT_API_INSECURE=true to serve every tenant\'s data to anyone who can connect',
  ]);
}

/** The API's express app, after the exposure check; says at start how it is exposed. */
export function createApiApp(config: ChainsightConfig, pipeline: Pipeline, logger: Logger): express.Express {
  const exposure = apiExposure(config.api.host, config.apiAccess);
  const auth = config.apiAccess.auth === undefined ? undefined : new Authenticator(config.apiAccess.auth);
  if (exposure === 'authenticated') {
    logger.info({ issuer: config.apiAccess.auth!.issuer, audience: config.apiAccess.auth!.audience }, 'analyst API requires bearer tokens');
  } else if (exposure === 'open-loopback') {
    logger.warn({ host: config.api.host }, 'analyst API is open (no authentication): acceptable on loopback only; configure CHAINSIGHT_AUTH_* before exposing it');
  } else {
    logger.error({ host: config.api.host }, 'CHAINSIGHT_API_INSECURE=true: the analyst API serves every tenant\'s data WITHOUT AUTHENTICATION to anyone who can reach it');
  }
  const app = express();
  app.disable('x-powered-by');
  // Revocation and blast radius: guarded by the same tokens and roles as the analyst API.
  app.use(createRevocationRouter({
    ...pipeline.revocations,
    logger,
    guard: async (req, access) => {
      const principal = auth === undefined ? OPEN_PRINCIPAL : await auth.authenticate(req.headers.authorization);
      authorize(principal, access);
      return principal;
    },
  }));
  const cursors = new CursorCodec(config.apiAccess.cursorKey);
  // Alerts: viewer reads, responder acknowledge/resolve, each restricted to the caller's tenants.
  app.use(createAlertsRouter({
    store: pipeline.alerts,
    logger,
    cursors,
    authenticate: async (req) => (auth === undefined ? OPEN_PRINCIPAL : auth.authenticate(req.headers.authorization)),
  }));
  app.use(createApiRouter(pipeline.queries, {
    metrics: pipeline.metrics,
    logger,
    quarantine: (f) => pipeline.findQuarantined(f),
    decisions: (q) => findDecisions(pipeline.readerClient, pipeline.database, q),
    ...(auth ? { auth } : {}),
    cursors,
    ...(config.apiAccess.metricsToken !== undefined ? { metricsToken: config.apiAccess.metricsToken } : {}),
  }));
  return app;
}
