/**
 * `npm run screenshots`: the console's README screenshots (docs/screenshots/),
 * taken in headless Chromium against the demo's data served by chainsight.
 */
import { mkdirSync } from 'node:fs';
import { launchBrowser, chromiumMissing } from '../test/support/browser.js';
import { startDemoConsole } from '../test/support/console-demo.js';
import { AGENTS } from '../src/demo/scenario.js';

const OUT = new URL('../docs/screenshots/', import.meta.url);

async function main(): Promise<void> {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  mkdirSync(OUT, { recursive: true });
  const demo = await startDemoConsole({ followUp: true });
  const browser = await launchBrowser();
  try {
    const page = await (await browser.context({ width: 1440, height: 900 })).newPage();
    const shot = async (name: string) => {
      await page.waitForLoadState('networkidle');
      await page.screenshot({ path: new URL(`${name}.png`, OUT).pathname });
      console.log(`docs/screenshots/${name}.png`);
    };
    await page.goto(`${demo.base}/console/#/tasks`);
    await page.locator(`tr[data-task="${demo.taskId}"]`).waitFor();
    await shot('tasks');

    // The task, with the stolen-chain action's chain open.
    await page.goto(`${demo.base}/console/#/tasks/${demo.taskId}`);
    await page.locator('[data-row=agent]').first().waitFor();
    await page.getByLabel('flagged actions only').check();
    await page.locator('a.action-link', { hasText: 'aws.ec2.DescribeInstances' }).first().click();
    await page.getByTestId('chain-view').locator('li.link').first().waitFor();
    await shot('task');

    await page.goto(`${demo.base}/console/#/graph`);
    await page.locator('g.edge.unexpected').first().click();
    await page.getByTestId('edge-tasks').locator('tbody tr').first().waitFor();
    await shot('graph');

    await page.goto(`${demo.base}/console/#/alerts`);
    await page.locator('tr[data-alert]').first().waitFor();
    await shot('alerts');

    const security = AGENTS.find((a) => a.key === 'security')!;
    await page.goto(`${demo.base}/console/#/agents/${encodeURIComponent(security.spiffeId)}`);
    await page.locator('table.scope-grid tbody tr').first().waitFor();
    await shot('agent');

    await page.goto(`${demo.base}/console/#/revocation?kind=agent&id=${encodeURIComponent(security.spiffeId)}`);
    await page.getByTestId('blast-radius').waitFor();
    await shot('blast-radius');
  } finally {
    await browser.close();
    await demo.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
