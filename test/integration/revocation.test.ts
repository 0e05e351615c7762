/**
 * Time you can trust and revocation, end to end on the embedded store: real
 * OTel SDK agents exporting over OTLP/HTTP to a running chainsight, the
 * revocation API and CLI over real HTTP, and the processor's watcher polling
 * the revocations table.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { loadConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/runtime/server.js';
import { createLogger } from '../../src/runtime/logger.js';
import { agentSpanAttributes, withTask } from '../../src/sdk/telemetry.js';
import { registerRevokeCommands } from '../../src/cli/revoke-commands.js';
import { parseToken, tokenHash } from '../../src/verify/token.js';
import { makeTrustDomain, standardChain, TASK, type TestDomain } from '../support/keys.js';
import { startTestAgent } from '../support/otel.js';
import type { ActionView } from '../../src/store/queries.js';

let server: RunningServer;
let domain: TestDomain;
let dataDir: string;
const MIN = 60_000;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'chainsight-revoke-'));
  domain = await makeTrustDomain();
  const config = loadConfig({ ...process.env, CHAINSIGHT_REVOCATION_POLL_MS: '200' }, { data: dataDir, trustDir: domain.dir, otlpPort: 0, apiPort: 0 });
  if (process.env.CLICKHOUSE_URL) config.store.database = `revoke_${process.pid}`;
  assert.equal(config.maxSpanAgeSec, 7200, 'the default age bound');
  server = await startServer(config, createLogger('silent'));
});

after(async () => {
  await server.stop();
  await domain.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Send {
  name: string;
  chain: string[];
  startMs: number;
}

/** The scanner agent sends these spans through the real SDK exporter. */
async function send(spans: Send[]): Promise<void> {
  const agent = startTestAgent({ serviceName: 'scanner', agentId: domain.id('scanner'), url: `${server.otlpUrl}/v1/traces`, encoding: 'protobuf' });
  withTask(TASK, () => {
    for (const s of spans) {
      const attrs = agentSpanAttributes({ chain: s.chain, taskId: TASK, agentId: domain.id('scanner'), agentName: 'scanner', operation: 'execute_tool', toolName: 'describe', scopesUsed: ['cloud:read'], resource: s.name });
      agent.tracer.startSpan(s.name, { attributes: attrs, startTime: new Date(s.startMs) }).end(new Date(s.startMs + 1000));
    }
  });
  await agent.forceFlush();
  await agent.shutdown();
}

async function actions(): Promise<Map<string, ActionView>> {
  const res = await fetch(`${server.apiUrl}/api/tasks/${TASK}/actions`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as { actions: ActionView[] };
  return new Map(body.actions.map((a) => [a.resource, a]));
}

function parsed(token: string) {
  const p = parseToken(token);
  assert.ok(p.ok);
  return p.token;
}
const claims = (token: string) => parsed(token).payload as { exp: number };
const header = (token: string) => parsed(token).header;

function codes(a: ActionView | undefined): string[] {
  assert.ok(a, 'action stored');
  return [...a.reasons].sort();
}

async function post(body: unknown): Promise<Response> {
  return fetch(`${server.apiUrl}/api/revocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** Until this processor's watcher holds the revocation (no timing asserted: just wait). */
async function applied(id: string): Promise<void> {
  while (!server.pipeline.revocations.watcher.current().revocations.some((r) => r.id === id)) await new Promise((r) => setTimeout(r, 20));
}

test('a span starts no later than it was received and no earlier than the age bound', async () => {
  const now = Date.now();
  // The chain expired 2.5 h ago; a span claiming to start 3 h ago would verify without the bound.
  const expired = await standardChain(domain, { now: now - 185 * MIN });
  // Late but legitimate: 90 minutes old, its chain valid then.
  const late = await standardChain(domain, { now: now - 100 * MIN });
  const current = await standardChain(domain, { now: now - MIN });
  await send([
    { name: 'backdated', chain: expired, startMs: now - 180 * MIN },
    { name: 'late', chain: late, startMs: now - 90 * MIN },
    { name: 'future', chain: current, startMs: now + 10 * MIN },
    { name: 'now', chain: current, startMs: now },
  ]);
  const got = await actions();
  assert.deepEqual(codes(got.get('backdated')), ['time.start_too_old'], 'the chain is valid at the claimed start: only the age bound catches it');
  assert.equal(got.get('backdated')!.verdict, 'failed');
  assert.deepEqual(codes(got.get('late')), []);
  assert.equal(got.get('late')!.verdict, 'verified');
  assert.deepEqual(codes(got.get('future')), ['time.start_in_future']);
  assert.equal(got.get('now')!.verdict, 'verified');
});

test('revoking a link fails every later span under any chain holding it; earlier spans keep their verdict', async () => {
  const chain = await standardChain(domain, { now: Date.now() - MIN });
  const above = chain.slice(0, 1); // the planner's own chain: above the revoked link
  const t0 = Date.now();
  await send([{ name: 'before-revocation', chain, startMs: t0 - 1000 }]);
  assert.equal((await actions()).get('before-revocation')!.verdict, 'verified', 'cached as verified before the revocation');

  const inventoryLink = tokenHash(chain[1]!);
  const res = await post({ kind: 'link', target: inventoryLink, reason: 'inventory agent compromised', revokedBy: 'soc@co.com' });
  assert.equal(res.status, 201);
  const { revocation } = (await res.json()) as { revocation: { id: string; revokedAtMs: number; expiresAtMs: number } };
  assert.equal(revocation.expiresAtMs, claims(chain[1]!).exp * 1000, 'expires with the link it covers (seen in delegations)');
  await applied(revocation.id);

  await send([
    { name: 'after-revocation', chain, startMs: Date.now() },
    { name: 'late-report-of-earlier-action', chain, startMs: revocation.revokedAtMs - 20_000 },
    { name: 'above-revoked-link', chain: above, startMs: Date.now() },
  ]);
  const got = await actions();
  assert.equal(got.get('before-revocation')!.verdict, 'verified');
  assert.deepEqual(got.get('after-revocation')!.reasons, ['revoked.link']);
  assert.match(got.get('after-revocation')!.reason_details[0]!, /^link 1: .*inventory agent compromised/);
  assert.equal(got.get('late-report-of-earlier-action')!.verdict, 'verified', 'started before the revocation');
  // The scanner acting under the planner's chain is an agent mismatch, but not revoked.
  assert.ok(!codes(got.get('above-revoked-link')).some((c) => c.startsWith('revoked.')));

  const list = await fetch(`${server.apiUrl}/api/revocations?kind=link`).then((r) => r.json()) as { revocations: Array<{ id: string; target: string; revokedBy: string }> };
  assert.ok(list.revocations.some((r) => r.id === revocation.id && r.target === inventoryLink && r.revokedBy === 'soc@co.com'));
});

test('the CLI revokes a key through the API; spans under links that key signed fail with revoked.key', async () => {
  const chain = await standardChain(domain, { now: Date.now() - MIN });
  const kid = header(chain[2]!).kid; // the inventory agent signed the scanner's link
  const out: string[] = [];
  const errs: string[] = [];
  const program = new Command().exitOverride();
  registerRevokeCommands(program, { out: (t) => out.push(t), err: (t) => errs.push(t), exit: () => undefined, fetch });
  await program.parseAsync(['revoke', 'key', kid, '--reason', 'key leaked', '--by', 'oncall', '--api', server.apiUrl], { from: 'user' });
  assert.deepEqual(errs, []);
  const id = /revoked key .+: ([0-9a-f-]{36}) at .*never expires/.exec(out[0] ?? '')?.[1];
  assert.ok(id, out.join('\n'));
  await applied(id);
  await send([{ name: 'under-revoked-key', chain, startMs: Date.now() }]);
  const a = (await actions()).get('under-revoked-key')!;
  assert.deepEqual(a.reasons, ['revoked.key']);
  assert.match(a.reason_details[0]!, /^link 2: key/);
});

test('hostile revocation requests get a clear 400 and change nothing', async () => {
  const before = server.pipeline.revocations.watcher.current().size;
  for (const body of [{}, { kind: 'link' }, { kind: 'all', target: 'x', reason: 'r', revokedBy: 'b' }, { kind: 'agent', target: 'x'.repeat(600), reason: 'r', revokedBy: 'b' }]) {
    const res = await post(body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.ok(((await res.json()) as { detail: string }).detail.length > 0, 'the problem says why');
  }
  const bad = await fetch(`${server.apiUrl}/api/revocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"kind":' });
  assert.equal(bad.status, 400);
  assert.equal((await fetch(`${server.apiUrl}/api/blast-radius/everything/x`)).status, 400);
  await server.pipeline.revocations.watcher.poll();
  assert.equal(server.pipeline.revocations.watcher.current().size, before);
});

test('blast radius over the API and the CLI: the scanner agent reaches every action sent in this file', async () => {
  const res = await fetch(`${server.apiUrl}/api/blast-radius/agent/${encodeURIComponent(domain.id('scanner'))}`);
  assert.equal(res.status, 200);
  const b = (await res.json()) as { actions: { total: number; failed: number }; byAgent: Array<{ agent: string; actions: number }> };
  const all = await actions();
  assert.equal(b.actions.total, all.size);
  assert.equal(b.actions.failed, [...all.values()].filter((a) => a.verdict === 'failed').length);
  assert.deepEqual(b.byAgent.map((a) => a.agent), [domain.id('scanner')]);

  const out: string[] = [];
  const program = new Command().exitOverride();
  registerRevokeCommands(program, { out: (t) => out.push(t), err: (t) => out.push(t), exit: () => undefined, fetch });
  await program.parseAsync(['blast-radius', 'agent', domain.id('scanner'), '--api', server.apiUrl], { from: 'user' });
  assert.match(out.join('\n'), new RegExp(`actions: ${all.size} \\(verified ${all.size - b.actions.failed}, flagged ${b.actions.failed}\\)`));
  assert.match(out.join('\n'), /cloud:read: \d+/);
});
