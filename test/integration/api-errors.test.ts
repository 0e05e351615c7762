import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import express from 'express';
import { openClient } from '../../src/store/client.js';
import { Queries } from '../../src/store/queries.js';
import { createApiRouter } from '../../src/serve/api.js';
import { isStoreUnavailable } from '../../src/store/errors.js';
import { openTestStore } from '../support/store.js';
import { assertDocumented } from '../support/openapi-validate.js';

const store = await openTestStore();
after(() => store.close());

async function serve(queries: Queries, logged: object[]) {
  const app = express();
  app.use(createApiRouter(queries, { logger: { error: (obj) => logged.push(obj) } }));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, close: () => { server.closeAllConnections(); server.close(); } };
}

/** A port with nothing listening: connections to it are refused. */
async function closedPort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  s.close();
  await once(s, 'close');
  return port;
}

test('the store errors chdb and the HTTP client really raise are classified: a query error is not an outage, a refused connection is', async () => {
  const syntax = await store.reader.query({ query: 'SELEC 1' }).catch((e: unknown) => e);
  assert.equal(isStoreUnavailable(syntax), false);
  const missing = await store.reader.query({ query: `SELECT * FROM ${store.config.database}.no_such_table` }).catch((e: unknown) => e);
  assert.equal(isStoreUnavailable(missing), true, 'a missing table means the schema is not there: unavailable');
  const down = openClient({ database: 'x', target: { kind: 'server', url: `http://127.0.0.1:${await closedPort()}` } });
  const refused = await down.query({ query: 'SELECT 1' }).catch((e: unknown) => e);
  await down.close();
  assert.equal(isStoreUnavailable(refused), true);
  assert.equal(isStoreUnavailable(new TypeError('x is undefined')), false);
});

test('a store that cannot be reached answers 503 with Retry-After, and no internal text', async () => {
  const down = openClient({ database: 'x', target: { kind: 'server', url: `http://127.0.0.1:${await closedPort()}` } });
  const logged: object[] = [];
  const api = await serve(new Queries(down, 'chainsight'), logged);
  try {
    const res = await fetch(`${api.base}/api/tasks`);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '5');
    assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    const body = (await res.json()) as Record<string, unknown>;
    assertDocumented('/api/tasks', { status: res.status, headers: res.headers, body });
    assert.deepEqual(Object.keys(body).sort(), ['detail', 'errorId', 'instance', 'status', 'title', 'type']);
    assert.equal(body.type, 'urn:chainsight:problem:store-unavailable');
    assert.equal(body.status, 503);
    assert.doesNotMatch(JSON.stringify(body), /ECONNREFUSED|127\.0\.0\.1/);
    assert.equal(logged.length, 1, 'the cause is logged');
  } finally {
    api.close();
    await down.close();
  }
});

test("the API's own failure answers 500 without its message; the log keeps it under the same id", async () => {
  class BrokenQueries extends Queries {
    override async listTasks(): Promise<never> {
      throw new TypeError("Cannot read properties of undefined (reading 'secret_column')");
    }
  }
  const logged: Array<{ errorId?: string }> = [];
  const api = await serve(new BrokenQueries(store.reader, store.config.database), logged);
  try {
    const res = await fetch(`${api.base}/api/tasks`);
    assert.equal(res.status, 500);
    const body = (await res.json()) as { type: string; status: number; errorId: string };
    assertDocumented('/api/tasks', { status: res.status, headers: res.headers, body });
    assert.equal(body.type, 'urn:chainsight:problem:internal');
    assert.equal(body.status, 500);
    assert.doesNotMatch(JSON.stringify(body), /secret_column/);
    assert.equal(logged[0]?.errorId, body.errorId);
    // The same API over a healthy store answers normally.
    const ok = await serve(new Queries(store.reader, store.config.database), []);
    const good = await fetch(`${ok.base}/api/tasks`);
    assert.equal(good.status, 200);
    ok.close();
  } finally {
    api.close();
  }
});
