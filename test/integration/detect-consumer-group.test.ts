/**
 * Cross-agent detection on the scale path: two processors in one consumer
 * group on a 4-partition topic (real broker, shared embedded store), tasks
 * spread so that each processor sees only half of a resource's chains. No
 * processor's in-memory half can raise; the store evaluation, run by both
 * processors, raises each alert once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createLogger } from '../../src/runtime/logger.js';
import { AlertStore } from '../../src/alert/store.js';
import { openClient } from '../../src/store/client.js';
import { mintTaskChains, recordTask, type RecordedTask } from '../support/agent-tasks.js';
import { kafkaBrokers, produce, releaseKafka, uniqueTopic, waitFor } from '../support/kafka.js';
import { makeTrustDomain, type TestDomain } from '../support/keys.js';
import { serializeSpans } from '../support/otel.js';
import { allCommitted, rebalanced, startProcessorGroup, type ProcessorGroup } from '../support/processor-group.js';

const TASKS = 4;
let brokers: string[] = [];
let skipReason: string | undefined;
let domain: TestDomain;
let dataDir: string;
let group: ProcessorGroup | undefined;
const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

before(async () => {
  const found = await kafkaBrokers();
  if (typeof found === 'string') skipReason = found;
  else brokers = found;
  domain = await makeTrustDomain();
  dataDir = mkdtempSync(join(tmpdir(), 'chainsight-detect-group-'));
  // A resource is anomalous when 4 chains touch it in a day: here, every resource the tasks share.
  const detection = join(dataDir, 'detection.yaml');
  writeFileSync(detection, [
    'scope: { enabled: false }',
    'integrity: { enabled: false }',
    'policy: { enabled: false }',
    'cross_agent:',
    '  interval_sec: 1',
    '  stream: true',
    `  many_agents: { window_sec: 86400, min_agents: 50, min_chains: ${TASKS} }`,
    '  cross_task: { enabled: false }',
    '  rate_spike: { enabled: false }',
    '',
  ].join('\n'));
  process.env.CHAINSIGHT_DETECTION = detection;
});

after(async () => {
  await group?.stop();
  await domain?.cleanup();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  await releaseKafka();
});

test('two processors, each seeing half the chains on a resource, raise its alert once', async (t) => {
  if (skipReason) return t.skip(skipReason);
  group = await startProcessorGroup({ brokers, dataDir, trustDir: domain.dir, logger, partitions: 4, members: 2, topicPrefix: 'detect' });
  const tasks: RecordedTask[] = [];
  for (let i = 0; i < TASKS; i++) {
    const taskId = uniqueTopic('detect-task');
    tasks.push(await recordTask(domain, taskId, await mintTaskChains(domain, taskId), { bad: false, scannerJobs: 1 }));
  }
  // Task k on partition k: each processor holds two partitions, so two tasks.
  await produce(brokers, group.config.kafka.topic, tasks.map((task, k) => ({ partition: k, value: Buffer.from(serializeSpans(task.spans, 'protobuf')) })));
  await waitFor('every record committed', () => allCommitted(group!), 60_000);

  const client = openClient(group.config.store);
  try {
    const alerts = new AlertStore(client, group.config.store.database);
    // Resources every task touches: the inventory agent's accounts and the scanner's first job's VMs and volume.
    const shared = ['account-0', 'account-1', 'account-2', 'vm-0-0', 'vm-0-1', 'vm-0-2', 'vol-0'];
    const many = async () => (await alerts.list({ kind: 'resource.many_agents', limit: 1000 })).items;
    await waitFor('an alert per shared resource', async () => (await many()).length >= shared.length, 30_000);
    // Both processors keep evaluating: give them a few more rounds to (not) raise anything twice.
    await new Promise((r) => setTimeout(r, 3000));
    const items = await many();
    assert.deepEqual(items.map((a) => a.subject).sort(), [...shared].sort(), 'one alert per resource, none for resources of one task');
    for (const a of items) {
      assert.equal(a.count, 1, `${a.subject}: one trigger however many evaluations`);
      assert.equal(a.state, 'open');
      assert.equal(a.tenant, 'co.com');
    }
    const detail = await alerts.get(items[0]!.id);
    assert.equal(detail?.evidence.facts.chains, TASKS);
    const rs = await client.query({
      query: `SELECT detector, count() AS n FROM ${group.config.store.database}.alert_signals WHERE kind = 'resource.many_agents' GROUP BY detector`,
      format: 'JSONEachRow',
    });
    const byDetector = Object.fromEntries((await rs.json<{ detector: string; n: string }>()).map((r) => [r.detector, Number(r.n)]));
    assert.ok((byDetector.cross_agent ?? 0) >= shared.length, 'the store evaluation raised them');
    if (!rebalanced(group)) assert.equal(byDetector['cross_agent.stream'] ?? 0, 0, 'no processor saw more than half the chains');
  } finally {
    await client.close();
  }
});
