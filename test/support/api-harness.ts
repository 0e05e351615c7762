/**
 * Test helper: the analyst API on a real socket over chdb seeded with two
 * tenants, guarded by a real HTTPS identity provider.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { openTestStore, type TestStore } from './store.js';
import { startTestIssuer, type TestIssuer } from './oidc-issuer.js';
import { seedTenants } from './api-fixtures.js';
import { Queries } from '../../src/store/queries.js';
import { Metrics } from '../../src/serve/metrics.js';
import { createApiRouter, type ApiOptions } from '../../src/serve/api.js';
import { findQuarantined, type QuarantineFilter } from '../../src/store/quarantine.js';
import { findDecisions, type DecisionQuery } from '../../src/store/decisions.js';
import { Authenticator, type AuthSettings } from '../../src/serve/auth.js';
import { createAlertsRouter } from '../../src/serve/alerts-api.js';
import { AlertStore } from '../../src/alert/store.js';
import { seedAlerts } from './alerts.js';

export interface Answer {
  status: number;
  headers: Headers;
  /** Parsed JSON for JSON content types, the text otherwise. */
  body: any;
}

export interface ApiHarness {
  store: TestStore;
  idp: TestIssuer;
  router: express.Router;
  /** The alert routes, served on the same socket before the analyst API. */
  alertsRouter: express.Router;
  base: string;
  logged: object[];
  settings(over?: Partial<AuthSettings>): AuthSettings;
  /** A router over the same store with other options, on its own socket. */
  serve(opts: ApiOptions): Promise<{ base: string; close: () => void }>;
  /** A token for these tenants and role (null: no role claim). */
  token(tenants: unknown, role?: unknown): Promise<string>;
  get(path: string, bearer?: string, base?: string): Promise<Answer>;
  /** A POST with a JSON body (a string is sent as given). */
  post(path: string, body: unknown, bearer?: string): Promise<Answer>;
  close(): Promise<void>;
}

async function listen(...routers: express.Router[]): Promise<{ base: string; close: () => void }> {
  const app = express();
  for (const r of routers) app.use(r);
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => { server.closeAllConnections(); server.close(); } };
}

export async function startApiHarness(): Promise<ApiHarness> {
  const store = await openTestStore();
  const idp = await startTestIssuer();
  await seedTenants(store);
  await seedAlerts(store);
  const logged: object[] = [];
  const queries = new Queries(store.reader, store.config.database);
  const settings = (over: Partial<AuthSettings> = {}): AuthSettings => ({
    issuer: idp.issuer, audience: idp.audience, jwks: { kind: 'url', url: idp.jwksUrl, caFile: idp.caFile },
    algorithms: ['RS256', 'ES256'], tenantsClaim: 'chainsight_tenants', roleClaim: 'chainsight_role', clockSkewSec: 30, ...over,
  });
  const logger = { error: (o: object) => logged.push(o) };
  const quarantine = (f: QuarantineFilter) => findQuarantined(store.reader, store.config.database, f);
  const decisions = (q: DecisionQuery) => findDecisions(store.reader, store.config.database, q);
  const auth = new Authenticator(settings());
  const router = createApiRouter(queries, { metrics: new Metrics(), auth, logger, quarantine, decisions });
  const alertsRouter = createAlertsRouter({ store: new AlertStore(store.reader, store.config.database), authenticate: (req) => auth.authenticate(req.headers.authorization), logger });
  const main = await listen(alertsRouter, router);
  const others: Array<() => void> = [];
  return {
    store, idp, router, alertsRouter, base: main.base, logged, settings,
    async serve(opts) {
      const s = await listen(createApiRouter(queries, { logger, ...opts }));
      others.push(s.close);
      return s;
    },
    token: (tenants, role = 'viewer') => idp.mint({ chainsight_tenants: tenants, ...(role === null ? {} : { chainsight_role: role }) }),
    async get(path, bearer, b = main.base) {
      const res = await fetch(b + path, bearer ? { headers: { authorization: `Bearer ${bearer}` } } : {});
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text };
    },
    async post(path, body, bearer) {
      const headers: Record<string, string> = { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) };
      const res = await fetch(main.base + path, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text };
    },
    async close() {
      for (const c of [main.close, ...others]) c();
      await idp.close();
      await store.close();
    },
  };
}
