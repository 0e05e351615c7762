/**
 * What-if on the demo's data: after the quarterly review ran, `chainsight
 * policy what-if` with policies/demo-strict.yaml reports exactly what the
 * stricter draft would deny (the cost and report agents' one-hour
 * delegations), and the demo's own policy changes nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runDemo } from '../../src/demo/run.js';
import { AGENTS, BAD_ACTIONS } from '../../src/demo/scenario.js';
import type { StoreWhatIfReport } from '../../src/policy/what-if-store.js';
import { CLI, ensureBuilt, REPO } from '../support/cli.js';

const run = promisify(execFile);

test('what-if on the demo store: the stricter draft newly denies the cost and report agents, by rule', async () => {
  ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'chainsight-demo-what-if-'));
  try {
    assert.equal(await runDemo({ dataDir: dir, listActions: false, out: () => undefined, followUp: false }), true);
    const env = { ...process.env, CLICKHOUSE_URL: '' };
    const whatIf = async (policy: string) =>
      JSON.parse((await run(process.execPath, [CLI, 'policy', 'what-if', '--data', dir, '--policy', join(REPO, 'policies', policy), '--json'], { env })).stdout) as StoreWhatIfReport;

    const total = AGENTS.reduce((n, a) => n + a.actions, 0) + BAD_ACTIONS.length;
    const strict = await whatIf('demo-strict.yaml');
    assert.equal(strict.totals.replayed, total, 'every demo action was judged by the policy stage');
    assert.equal(strict.actions.notReplayable, 0);
    const agent = (key: string) => AGENTS.find((a) => a.key === key)!;
    // The cost agent's legitimate actions and the one replaying an expired (one-hour, billing) delegation.
    const billing = agent('cost').actions + BAD_ACTIONS.filter((b) => b.kind === 'expired').length;
    // The report agent's legitimate actions (its bad ones were denied already).
    const write = agent('report').actions;
    assert.deepEqual(strict.newlyDenied.map((c) => [c.rule, c.count]), [['lifetime.billing', billing], ['lifetime.write', write]]);
    assert.equal(strict.totals.newlyDenied, billing + write);
    assert.equal(strict.totals.newlyAllowed, 0);
    assert.ok(strict.newlyDenied[0]!.examples.every((e) => e.agent === agent('cost').spiffeId && e.link === 1));
    assert.ok(strict.newlyDenied[1]!.examples.every((e) => e.agent === agent('report').spiffeId));

    const same = await whatIf('demo.yaml');
    assert.deepEqual([same.totals.newlyDenied, same.totals.newlyAllowed, same.totals.replayed], [0, 0, total]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
