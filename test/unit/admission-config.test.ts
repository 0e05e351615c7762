import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { DEFAULT_MAX_INFLIGHT_BYTES } from '../../src/ingest/admission.js';

test('admission defaults: a 256 MiB in-flight budget, a 1 s wait for room, no resident-memory limit', () => {
  const c = loadConfig({});
  assert.deepEqual(c.admission, { maxInflightBytes: DEFAULT_MAX_INFLIGHT_BYTES, maxWaitMs: 1000, memoryLimitBytes: 0 });
  assert.equal(DEFAULT_MAX_INFLIGHT_BYTES, 256 * 1024 * 1024);
});

test('admission variables are read and validated', () => {
  const c = loadConfig({ CHAINSIGHT_MAX_INFLIGHT_BYTES: '1048576', CHAINSIGHT_ADMISSION_WAIT_MS: '0', CHAINSIGHT_MEMORY_LIMIT_BYTES: '2147483648' });
  assert.deepEqual(c.admission, { maxInflightBytes: 1_048_576, maxWaitMs: 0, memoryLimitBytes: 2_147_483_648 });
  // No budget at all would admit nothing: refused rather than silently unlimited.
  assert.throws(() => loadConfig({ CHAINSIGHT_MAX_INFLIGHT_BYTES: '0' }), /CHAINSIGHT_MAX_INFLIGHT_BYTES must be an integer of at least 1/);
  assert.throws(() => loadConfig({ CHAINSIGHT_MAX_INFLIGHT_BYTES: '64MiB' }), /CHAINSIGHT_MAX_INFLIGHT_BYTES/);
  assert.throws(() => loadConfig({ CHAINSIGHT_MEMORY_LIMIT_BYTES: '-1' }), /CHAINSIGHT_MEMORY_LIMIT_BYTES/);
  assert.throws(() => loadConfig({ CHAINSIGHT_ADMISSION_WAIT_MS: 'soon' }), /CHAINSIGHT_ADMISSION_WAIT_MS/);
});
