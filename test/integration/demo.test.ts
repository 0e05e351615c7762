/** `npm run demo` as a test: the seed's scenario must come out exactly as the agents emitted it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo } from '../../src/demo/run.js';
import { AGENTS, BAD_ACTIONS } from '../../src/demo/scenario.js';

test('the demo verifies every legitimate action and flags each bad one with its reason', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chainsight-demo-'));
  const lines: string[] = [];
  try {
    const ok = await runDemo({ dataDir: dir, listActions: false, out: (l) => lines.push(l) });
    const text = lines.join('\n');
    assert.equal(ok, true, text);
    const legit = AGENTS.reduce((n, a) => n + a.actions, 0);
    assert.equal(legit, 353, "the seed's 15 + 234 + 89 + 12 + 3 legitimate actions");
    assert.match(text, new RegExp(`Total: ${legit + BAD_ACTIONS.length} actions across 5 agents`));
    assert.match(text, /planning-agent: 15 actions over 45 minutes/);
    assert.match(text, /cloud-inventory-agent: 234 actions/);
    assert.match(text, /All traceable to: alice@acme\.example's request/);
    assert.match(text, new RegExp(`Verified: 353 {3}Flagged: ${BAD_ACTIONS.length}`));
    // Verification's reasons, and a policy rule by its id.
    for (const reason of ['scope.exceeded', 'time.expired', 'signature.invalid', 'agent.mismatch', 'policy.lifetime.write']) assert.match(text, new RegExp(`✓ flagged ${reason.replaceAll('.', '\\.')}`));
    assert.doesNotMatch(text, /✗ \d/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
