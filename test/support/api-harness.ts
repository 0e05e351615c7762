/**
 * Test helper: the analyst API, every router the runtime mounts
 * (src/serve/app.ts), on a real socket over chdb seeded with two tenants,
 * guarded by a real HTTPS identity provider.
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
import { createAnalystApp } from '../../src/serve/app.js';
import { RevocationStore } from '../../src/revoke/store.js';
import { BlastRadiusQueries } from '../../src/revoke/blast-radius.js';
import { GraphQueries } from '../../src/store/graph-queries.js';
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
  /** The whole API as the runtime mounts it. */
  app: express.Express;
  base: string;
  logged: object[];
  settings(over?: Partial<AuthSettings>): AuthSettings;
  /** A router over the same store with other options, on its own socket. */
  serve(opts: ApiOptions): Promise<{ base: string; close: () => void }>;
  /** A token for these tenants and role (null: no role claim). */
  token(tenants: unknown, role?: unknown): Promise<string>;
  get(path: string, bearer?: string, base?: string): Promise<Answer>;
  /** Any method; a body is sent as JSON. */
  request(method: string, path: string, bearer?: string, body?: unknown): Promise<Answer>;
  /** A POST with a JSON body (a string is sent as given). */
  post(path: string, body: unknown, bearer?: string): Promise<Answer>;
  close(): Promise<void>;
}

async function listen(r: express.Router | express.Express): Promise<{ base: string; close: () => void }> {
  const app = express();
  app.use(r);
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => { server.closeAllConnections(); server.close(); } };
}

async function send(base: string, method: string, path: string, bearer?: string, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const payload = body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) };
  const res = await fetch(base + path, { method, headers, ...payload });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text };
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
  const logger = { error: (o: object) => logged.push(o), info: () => {}, warn: () => {} };
  const quarantine = (f: QuarantineFilter) => findQuarantined(store.reader, store.config.database, f);
  const decisions = (q: DecisionQuery) => findDecisions(store.reader, store.config.database, q);
  const app = createAnalystApp({
    queries, metrics: new Metrics(), auth: new Authenticator(settings()), logger, quarantine, decisions,
    revocations: { store: new RevocationStore(store.writer, store.config.database), blastRadius: new BlastRadiusQueries(store.reader, store.config.database) },
    alerts: new AlertStore(store.reader, store.config.database),
    graph: new GraphQueries(store.reader, store.config.database),
  });
  const main = await listen(app);
  const others: Array<() => void> = [];
  return {
    store, idp, app, base: main.base, logged, settings,
    async serve(opts) {
      const s = await listen(createApiRouter(queries, { logger, ...opts }));
      others.push(s.close);
      return s;
    },
    token: (tenants, role = 'viewer') => idp.mint({ chainsight_tenants: tenants, ...(role === null ? {} : { chainsight_role: role }) }),
    get: (path, bearer, b = main.base) => send(b, 'GET', path, bearer),
    request: (method, path, bearer, body) => send(main.base, method, path, bearer, body),
    post: (path, body, bearer) => send(main.base, 'POST', path, bearer, body),
    async close() {
      for (const c of [main.close, ...others]) c();
      await idp.close();
      await store.close();
    },
  };
}
