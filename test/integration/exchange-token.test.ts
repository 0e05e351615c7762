/**
 * Token-exchange tokens end to end on the embedded store: real OTel SDK
 * agents export spans carrying one STS-signed token over OTLP/HTTP to a
 * running chainsight; the tree shows the path from the human through every
 * actor, and the action rows from the API say the hops are `sts-token`
 * evidence, next to a signed-links chain of the same task.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/runtime/server.js';
import { createLogger } from '../../src/runtime/logger.js';
import { mintExchangeToken } from '../../src/sdk/exchange.js';
import { generateKey, type SigningKey } from '../../src/sdk/keys.js';
import { agentSpanAttributes, withTask } from '../../src/sdk/telemetry.js';
import type { ActionView } from '../../src/store/queries.js';
import type { AgentNode, TaskTree } from '../../src/serve/tree.js';
import { HUMAN, TASK, makeTrustDomain, standardChain, type TestDomain } from '../support/keys.js';
import { startTestAgent } from '../support/otel.js';

let server: RunningServer;
let domain: TestDomain;
let sts: SigningKey;
let dataDir: string;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'chainsight-exchange-'));
  domain = await makeTrustDomain();
  sts = (await generateKey({ dir: domain.dir, trustDomain: domain.trustDomain, sts: true })).signingKey;
  const config = loadConfig({ ...process.env }, { data: dataDir, trustDir: domain.dir, otlpPort: 0, apiPort: 0 });
  if (process.env.CLICKHOUSE_URL) config.store.database = `exchange_${process.pid}`;
  server = await startServer(config, createLogger('silent'));
});

after(async () => {
  await server.stop();
  await domain.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Send {
  resource: string;
  chain: string[];
  agent: string;
}

/** Each span goes out through the real SDK exporter of the agent it names. */
async function send(spans: Send[]): Promise<void> {
  for (const s of spans) {
    const agent = startTestAgent({ serviceName: s.agent, agentId: domain.id(s.agent), url: `${server.otlpUrl}/v1/traces`, encoding: 'protobuf' });
    withTask(TASK, () => {
      const attrs = agentSpanAttributes({ chain: s.chain, taskId: TASK, agentId: domain.id(s.agent), agentName: s.agent, operation: 'execute_tool', toolName: 'describe', scopesUsed: ['cloud:read'], resource: s.resource });
      agent.tracer.startSpan(`execute_tool ${s.resource}`, { attributes: attrs, startTime: new Date(Date.now() - 1000) }).end(new Date());
    });
    await agent.forceFlush();
    await agent.shutdown();
  }
}

async function get<T>(path: string): Promise<T> {
  const res = await fetch(`${server.apiUrl}${path}`);
  assert.equal(res.status, 200, path);
  return (await res.json()) as T;
}

function find(nodes: AgentNode[], agentId: string): AgentNode | undefined {
  for (const n of nodes) {
    if (n.agentId === agentId) return n;
    const below = find(n.delegates, agentId);
    if (below) return below;
  }
  return undefined;
}

test('an exchange token through the receiver: verified, its path in the tree, sts-token evidence on the action rows', async () => {
  const now = Date.now() - 60_000;
  const token = await mintExchangeToken({
    stsKey: sts, human: HUMAN, actors: [domain.id('planner'), domain.id('inventory'), domain.id('scanner')],
    scope: ['cloud:read'], task: TASK, purpose: 'quarterly infrastructure review', ttlSec: 3600, now,
  });
  // Signed by an agent's key instead of the STS's: refused.
  const forged = await mintExchangeToken({
    stsKey: domain.agents.scanner as SigningKey, human: HUMAN, actors: [domain.id('planner'), domain.id('scanner')],
    scope: ['cloud:read'], task: TASK, ttlSec: 3600, now, unsafe: { skipChecks: true },
  });
  const links = await standardChain(domain, { now, depth: 2 });
  await send([
    { resource: 'via-sts', chain: [token], agent: 'scanner' },
    { resource: 'wrong-actor', chain: [token], agent: 'inventory' },
    { resource: 'forged', chain: [forged], agent: 'scanner' },
    { resource: 'via-links', chain: links, agent: 'inventory' },
  ]);

  const { actions } = await get<{ actions: ActionView[] }>(`/api/tasks/${TASK}/actions`);
  const by = new Map(actions.map((a) => [a.resource, a]));
  const viaSts = by.get('via-sts');
  assert.ok(viaSts, 'stored');
  assert.equal(viaSts.verdict, 'verified', JSON.stringify(viaSts.reason_details));
  assert.equal(viaSts.chain_evidence, 'sts-token');
  assert.deepEqual(viaSts.chain_path, [HUMAN, domain.id('planner'), domain.id('inventory'), domain.id('scanner')]);
  assert.equal(viaSts.chain_depth, 3);
  assert.deepEqual(viaSts.scopes_granted, ['cloud:read']);
  assert.deepEqual(by.get('wrong-actor')?.reasons, ['agent.mismatch']);
  assert.equal(by.get('wrong-actor')?.chain_evidence, 'sts-token');
  assert.deepEqual(by.get('forged')?.reasons, ['signature.key_not_bound']);
  assert.equal(by.get('via-links')?.verdict, 'verified');
  assert.equal(by.get('via-links')?.chain_evidence, 'signed-links');

  const tree = await get<TaskTree>(`/api/tasks/${TASK}/tree`);
  assert.equal(tree.rootHuman, HUMAN);
  const planner = find(tree.agents, domain.id('planner'));
  assert.ok(planner, 'the first actor hangs under the human');
  const inventory = find(planner.delegates, domain.id('inventory'));
  assert.ok(inventory, 'the second actor under the first');
  const scanner = find(inventory.delegates, domain.id('scanner'));
  assert.ok(scanner, 'the current actor under the second');
  assert.equal(scanner.delegatedBy, domain.id('inventory'));
  assert.ok(scanner.verified >= 1);
});
