/**
 * Signing in to the console when the API requires bearer tokens (a real
 * HTTPS identity provider, the two-tenant fixtures): the console asks for a
 * token, keeps it in sessionStorage only, sends it only as Authorization, never
 * in a URL, shows only the token's tenants' tasks, and asks again when the
 * server refuses it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { chromiumMissing, launchBrowser, type TestBrowser } from '../support/browser.js';
import { startApiHarness, type ApiHarness } from '../support/api-harness.js';
import { CO, TASK_CO, TASK_PARTNER, TASK_SHARED } from '../support/api-fixtures.js';
import { serveConsole } from '../../src/serve/console-static.js';

let h: ApiHarness;
let browser: TestBrowser;
let server: Server;
let base = '';
before(async () => {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  h = await startApiHarness();
  const app = express();
  app.use(serveConsole());
  app.use(h.app);
  server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  server?.closeAllConnections();
  server?.close();
  await h?.close();
});

test('the console asks for a token, sends it only as a bearer header, and shows only its tenants\' tasks', async () => {
  const page = await (await browser.context()).newPage();
  const requests: Array<{ url: string; authorization: string | undefined }> = [];
  page.on('request', (r) => requests.push({ url: r.url(), authorization: r.headers().authorization }));
  await page.goto(`${base}/console/`);
  const form = page.getByLabel('bearer token');
  await form.waitFor();

  const token = await h.token([CO], 'viewer');
  await form.fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator(`tr[data-task="${TASK_CO}"]`).waitFor();
  const shown = await page.locator('tr[data-task]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-task')));
  assert.deepEqual(new Set(shown), new Set([TASK_SHARED, TASK_CO]), "co.example's tasks, not the partner's");
  assert.ok(!shown.includes(TASK_PARTNER));

  const api = requests.filter((r) => new URL(r.url).pathname.startsWith('/api/'));
  assert.ok(api.some((r) => r.authorization === `Bearer ${token}`), 'API requests carry the token');
  for (const r of requests) assert.ok(!r.url.includes(token.slice(-20)), `no token in a URL: ${r.url}`);
  assert.ok(requests.filter((r) => !new URL(r.url).pathname.startsWith('/api/')).every((r) => r.authorization === undefined), 'static files are fetched without it');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('chainsight.token')), token);
  assert.equal(await page.evaluate(() => localStorage.length), 0);
  assert.equal(await page.evaluate(() => document.cookie), '');

  // Another view uses it too: the task tree.
  await page.getByRole('link', { name: TASK_CO }).click();
  await page.locator('[data-row=agent]').first().waitFor();

  // Signing out forgets it, and the next call asks again.
  await page.getByRole('button', { name: 'Sign out' }).click();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('chainsight.token')), null);
  await page.goto(`${base}/console/#/tasks`);
  await page.reload();
  await page.getByLabel('bearer token').waitFor();
});

test('a token the server refuses (expired, or of no role) brings the sign-in form back with why', async () => {
  const page = await (await browser.context()).newPage();
  await page.goto(`${base}/console/`);
  await page.getByLabel('bearer token').fill(await h.idp.mint({ chainsight_tenants: [CO], chainsight_role: 'viewer' }, { expSec: -120 }));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('The server refused the token').waitFor();
  assert.equal(await page.locator('tr[data-task]').count(), 0);

  // A token with no role is let in but forbidden: the page says so instead of showing tasks.
  await page.getByLabel('bearer token').fill(await h.token([CO], null));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').waitFor();
  assert.match(await page.getByRole('alert').innerText(), /no chainsight role/);
});
