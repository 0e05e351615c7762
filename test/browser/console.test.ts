/**
 * The analyst console in headless Chromium (Debian's, driven by
 * playwright-core) against chainsight serving the demo's data: from the task
 * list to a flagged action's chain, from a delegation-graph edge to its
 * tasks, and a 10,000-action task that renders and scrolls with a bounded DOM.
 * Every page runs under the console's CSP: any violation or script error fails.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { chromiumMissing, launchBrowser, type TestBrowser } from '../support/browser.js';
import { BIG_TASK, BIG_TASK_ACTIONS, startDemoConsole, type DemoConsole } from '../support/console-demo.js';
import { AGENTS, BAD_ACTIONS } from '../../src/demo/scenario.js';

let demo: DemoConsole;
let browser: TestBrowser;
before(async () => {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  demo = await startDemoConsole({ bigTask: true });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await demo?.close();
});

/** A page that records every console error, failed request and uncaught error (CSP violations are console errors). */
async function openPage(): Promise<{ page: Page; problems: string[] }> {
  const page = await (await browser.context()).newPage();
  const problems: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  return { page, problems };
}

/**
 * Scrolls the element to its bottom in 120 steps, one per animation frame,
 * timing every frame and counting the rows in the DOM. Text, not a function:
 * the test's compiler would add helpers the page does not have.
 */
const SCROLL_PROBE = `async (el) => {
  const frames = [];
  let maxRows = 0;
  const steps = 120;
  const target = el.scrollHeight - el.clientHeight;
  let last = performance.now();
  for (let i = 1; i <= steps; i++) {
    el.scrollTop = (target * i) / steps;
    await new Promise((resolve) => requestAnimationFrame(() => resolve()));
    const now = performance.now();
    frames.push(now - last);
    last = now;
    maxRows = Math.max(maxRows, el.querySelectorAll('.tree-inner > .row').length);
  }
  frames.sort((a, b) => a - b);
  const pct = (p) => frames[Math.min(frames.length - 1, Math.floor((p / 100) * frames.length))];
  return { maxRows, scrollHeight: el.scrollHeight, median: pct(50), p95: pct(95), max: frames[frames.length - 1] };
}`;

const agent = (key: string) => AGENTS.find((a) => a.key === key)!;

test('the console is served with a strict CSP and caching headers, and / leads to it', async () => {
  const root = await fetch(`${demo.base}/`, { redirect: 'manual' });
  assert.equal(root.status, 302);
  assert.equal(root.headers.get('location'), '/console/');
  const index = await fetch(`${demo.base}/console/`);
  assert.equal(index.status, 200);
  const csp = index.headers.get('content-security-policy') ?? '';
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  const html = await index.text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script in the page');
  const asset = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)![1]!;
  const js = await fetch(`${demo.base}${asset}`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get('cache-control') ?? '', /immutable/);
  // A view's URL reloads into the page; a file that is not there is not the page.
  assert.equal((await fetch(`${demo.base}/console/tasks/x`)).status, 200);
  assert.equal((await fetch(`${demo.base}/console/assets/nothing.js`)).status, 404);
  // The API's own routes are unchanged beside it.
  assert.equal((await fetch(`${demo.base}/healthz`)).status, 200);
});

test("from the task list to a flagged action's chain: who delegated what, and which link failed", async () => {
  const { page, problems } = await openPage();
  await page.goto(`${demo.base}/`);
  const row = page.locator(`tr[data-task="${demo.taskId}"]`);
  await row.waitFor();
  assert.match(await row.innerText(), new RegExp(`alice@acme\\.example[\\s\\S]*quarterly infrastructure review[\\s\\S]*${BAD_ACTIONS.length} flagged`));
  await row.getByRole('link', { name: demo.taskId }).click();

  // The tree as the seed draws it: the planner, with its delegates nested under it.
  await page.locator('[data-row=agent]', { hasText: 'planning-agent' }).waitFor();
  assert.match(await page.locator('.summary').innerText(), /353[\s\S]*Flagged\s*5/);
  await page.getByLabel('flagged actions only').check();
  const flagged = page.locator('a.action-link[data-verdict=failed]');
  assert.equal(await flagged.count(), BAD_ACTIONS.length);

  // The stolen chain: the cost analyzer presented the inventory agent's chain.
  await flagged.filter({ hasText: 'aws.ec2.DescribeInstances' }).click();
  const chain = page.getByTestId('chain-view');
  await chain.locator('li.link').nth(1).waitFor();
  assert.match(await chain.innerText(), /agent\.mismatch/);
  const links = await chain.locator('li.link').allInnerTexts();
  assert.equal(links.length, 2);
  assert.match(links[0]!, /Issuer\s*alice@acme\.example → planning[\s\S]*infrastructure:review[\s\S]*verified/);
  assert.match(links[1]!, /planning → cloud-inventory[\s\S]*cloud:read[\s\S]*verified/);
  assert.match(page.url(), /#\/tasks\/task-[0-9a-f]+\?span=[0-9a-f]{16}$/, 'the selected action is in the fragment');

  // The tampered link: its signature status says it failed.
  await flagged.filter({ hasText: 'email.send' }).click();
  await chain.locator('li.link[data-status=invalid]').first().waitFor();
  assert.match(await chain.innerText(), /signature\.invalid[\s\S]*failed verification/);

  // The replayed expired grant: the link is shown as expired at the action.
  await flagged.filter({ hasText: 'aws.ce.GetCostAndUsage' }).click();
  await chain.getByText('expired at the action').first().waitFor();
  assert.deepEqual(problems, []);
});

test('from a delegation-graph edge to the tasks that used it', async () => {
  const { page, problems } = await openPage();
  await page.goto(`${demo.base}/console/#/graph`);
  const unexpected = page.locator('g.edge.unexpected');
  await unexpected.first().waitFor();
  // The stolen chain draws the one unexpected edge: inventory → cost analyzer, which no link grants.
  assert.equal(await unexpected.count(), 1);
  assert.equal(await unexpected.getAttribute('data-edge'), `${agent('inventory').spiffeId} -> ${agent('cost').spiffeId}`);
  // The tampered link marks its edge invalid.
  assert.equal(await page.locator(`g.edge.invalid[data-edge="${agent('planning').spiffeId} -> ${agent('report').spiffeId}"]`).count(), 1);
  await unexpected.locator('text.edge-label').click();
  const tasks = page.getByTestId('edge-tasks');
  await tasks.locator('tbody tr').first().waitFor();
  assert.match(await tasks.innerText(), /unexpected: no link grants this delegation/);
  assert.deepEqual(await tasks.locator('tbody tr td:first-child').allInnerTexts(), [demo.taskId]);
  await tasks.getByRole('link', { name: demo.taskId }).click();
  await page.locator('[data-row=agent]').first().waitFor();
  assert.match(page.url(), new RegExp(`#/tasks/${demo.taskId}$`));

  // A verified edge lists its task too, with its link and action counts.
  await page.goto(`${demo.base}/console/#/graph`);
  await page.locator(`g.edge[data-edge="${agent('planning').spiffeId} -> ${agent('inventory').spiffeId}"] text.edge-label`).click();
  await tasks.locator('tbody tr').first().waitFor();
  assert.match(await tasks.locator('tbody tr').first().innerText(), new RegExp(`${demo.taskId}\\s+1\\s+0\\s+${agent('inventory').actions}\\s+0`));
  assert.deepEqual(problems, []);
});

test("the task's timeline marks each flagged action, and a mark opens its chain", async () => {
  const { page, problems } = await openPage();
  await page.goto(`${demo.base}/console/#/tasks/${demo.taskId}`);
  const timeline = page.getByLabel('timeline');
  await timeline.locator('.lane').first().waitFor();
  // Six lanes: the planner, its four delegates, and the cost analyzer again under the inventory agent whose chain it stole.
  assert.equal(await timeline.locator('.lane').count(), 6);
  assert.equal(await timeline.locator('a.mark').count(), BAD_ACTIONS.length);
  await timeline.getByLabel(/flagged scope\.exceeded/).click();
  await page.getByTestId('chain-view').getByText('scope.exceeded').first().waitFor();
  assert.match(page.url(), /\?span=[0-9a-f]{16}$/);
  assert.deepEqual(problems, []);
});

test("an agent's page shows granted against used scope; the blast radius page what it reached", async () => {
  const { page, problems } = await openPage();
  const security = agent('security');
  await page.goto(`${demo.base}/console/#/agents/${encodeURIComponent(security.spiffeId)}`);
  const grid = page.getByLabel('scopes over time');
  await grid.locator('tbody tr').first().waitFor();
  // Per bucket: the scanner's grant covers what it used (through the policy's implications), but for one call.
  const classes = (scope: string) => grid.locator('tbody tr', { has: page.locator('th code', { hasText: new RegExp(`^${scope}$`) }) })
    .locator('td').evaluateAll((tds) => tds.filter((td) => td.textContent !== '').map((td) => td.className));
  assert.deepEqual(await classes('iam:CreateAccessKey'), ['ungranted']);
  const vulndb = await classes('vulndb:query');
  assert.ok(vulndb.length > 0 && vulndb.every((c) => c === 'used'), vulndb.join());
  assert.ok((await classes('security:read')).includes('used'), 'the grant counts as used through what it implies');
  assert.match(await page.locator('section').innerText(), /Used without a grant:\s*iam:CreateAccessKey/);

  await page.getByRole('link', { name: 'blast radius', exact: true }).click();
  const blast = page.getByTestId('blast-radius');
  await blast.waitFor();
  assert.match(await blast.innerText(), new RegExp(`${security.actions + 1} actions \\(1 flagged\\)`));
  assert.equal(await blast.getByRole('link', { name: demo.taskId }).count(), 1);
  assert.deepEqual(problems, []);
});

test('alerts: list, filter by severity, acknowledge and resolve; a task search by alert id opens its task', async () => {
  const { page, problems } = await openPage();
  page.on('dialog', (d) => void d.accept('checked with the cost team'));
  await page.goto(`${demo.base}/console/#/alerts`);
  const rows = page.locator('tr[data-alert]');
  await rows.first().waitFor();
  const all = await rows.count();
  assert.ok(all >= 2, `the demo raises alerts: ${all}`);
  await page.getByLabel('Severity ≥').selectOption('high');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/severity=high/);
  await page.waitForFunction((n) => document.querySelectorAll('tr[data-alert]').length < n, all);
  const stolen = rows.filter({ hasText: 'integrity.not_delegatee' });
  assert.equal(await stolen.count(), 1, 'the stolen chain is a high-severity integrity alert');
  assert.match(await stolen.innerText(), new RegExp(`presented a chain delegated to[\\s\\S]*${demo.taskId}[\\s\\S]*open`));
  const id = (await stolen.getAttribute('data-alert'))!;

  await stolen.getByRole('button', { name: 'Acknowledge' }).click();
  await stolen.getByText('acknowledged').waitFor();
  await stolen.getByRole('button', { name: 'Resolve' }).click();
  await stolen.getByText('resolved').waitFor();
  assert.equal(await stolen.getByRole('button').count(), 0, 'a resolved alert offers no action');
  const stored = await (await fetch(`${demo.base}/api/alerts/${id}`)).json() as { state: string; history: Array<{ state: string; note: string }> };
  assert.equal(stored.state, 'resolved');
  assert.ok(stored.history.some((h) => h.note === 'checked with the cost team'));

  await page.goto(`${demo.base}/console/#/tasks`);
  await page.getByPlaceholder('alert id').fill(id);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(new RegExp(`#/tasks/${demo.taskId}$`));
  await page.locator('[data-row=agent]').first().waitFor();
  assert.deepEqual(problems, []);
});

test('a 10,000-action task renders and scrolls with a bounded DOM (virtualised); frame times are reported', async (t) => {
  const { page, problems } = await openPage();
  const apiStarted = Date.now();
  const tree = await fetch(`${demo.base}/api/tasks/${BIG_TASK}/tree`);
  const treeBytes = (await tree.arrayBuffer()).byteLength;
  const apiMs = Date.now() - apiStarted;
  const started = Date.now();
  await page.goto(`${demo.base}/console/#/tasks/${BIG_TASK}`);
  await page.locator('.tree-tools', { hasText: `${BIG_TASK_ACTIONS + 4} rows` }).waitFor();
  const shownMs = Date.now() - started;
  const domRows = () => page.locator('.tree-inner > .row').count();
  const initial = await domRows();
  assert.ok(initial > 10 && initial < 120, `rows in the DOM at first: ${initial}`);

  const run = await page.evaluate(`(${SCROLL_PROBE})(document.querySelector('[data-testid=tree-scroll]'))`) as { maxRows: number; scrollHeight: number; median: number; p95: number; max: number };
  t.diagnostic(`10,000-action tree: the tree API answers ${(treeBytes / 1e6).toFixed(1)} MB in ${apiMs} ms; every row listed ${shownMs} ms after navigation (that answer included); ${run.maxRows} DOM rows at most while scrolling ${run.scrollHeight}px; frame time median ${run.median.toFixed(1)} ms, p95 ${run.p95.toFixed(1)} ms, max ${run.max.toFixed(1)} ms`);
  assert.ok(run.maxRows < 120, `DOM rows stay bounded while scrolling: ${run.maxRows}`);
  assert.ok(run.scrollHeight > BIG_TASK_ACTIONS * 20, 'the list is as tall as all its rows');
  // The last action is on screen at the bottom.
  const lastSpan = BIG_TASK_ACTIONS.toString(16).padStart(16, '0');
  await page.locator(`a.action-link[data-span="${lastSpan}"]`).waitFor();
  assert.ok((await domRows()) < 120);
  assert.deepEqual(problems, []);
});
