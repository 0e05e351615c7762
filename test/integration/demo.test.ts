/** `npm run demo` as a test: the seed's scenario must come out exactly as the agents emitted it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo } from '../../src/demo/run.js';

test('the demo verifies every legitimate action and flags each bad one with its reason', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chainsight-demo-'));
  const lines: string[] = [];
  try {
    const ok = await runDemo({ dataDir: dir, listActions: false, out: (l) => lines.push(l) });
    const text = lines.join('\n');
    assert.equal(ok, true, text);
    assert.match(text, /Total: 357 actions across 5 agents/);
    assert.match(text, /planning-agent: 15 actions over 45 minutes/);
    assert.match(text, /cloud-inventory-agent: 234 actions/);
    assert.match(text, /All traceable to: alice@acme\.example's request/);
    assert.match(text, /Verified: 353 {3}Flagged: 4/);
    for (const reason of ['scope.exceeded', 'time.expired', 'signature.invalid', 'agent.mismatch']) assert.match(text, new RegExp(`✓ flagged ${reason.replace('.', '\\.')}`));
    assert.doesNotMatch(text, /✗ \d/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
