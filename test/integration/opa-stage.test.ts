/**
 * OPA as the policy stage's engine, against a real OPA built by
 * scripts/build-opa.sh: the same spans through two pipelines, one judged by
 * the built-in engine and one by OPA, give the same verdicts and decisions;
 * a reload reaches OPA; an OPA that lost its data gets the policy again; an
 * unreachable OPA denies with policy.engine.unavailable while every span is
 * answered 200 and stored.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/runtime/logger.js';
import { startServer, type RunningServer } from '../../src/runtime/server.js';
import { agentSpanAttributes } from '../../src/sdk/telemetry.js';
import { mintChild, mintRoot } from '../../src/sdk/mint.js';
import { mintApproval } from '../../src/policy/approval.js';
import { APPROVALS_ATTRIBUTE } from '../../src/policy/input.js';
import type { SigningKey } from '../../src/sdk/keys.js';
import { makeTrustDomain, spanFor, standardChain, TASK, type TestDomain } from '../support/keys.js';
import { ChainVerifier, defaultPolicy } from '../../src/verify/index.js';
import { SpanBatch } from '../../src/pipeline/stage.js';
import { PolicyStage, POLICY_DECISIONS } from '../../src/policy/stage.js';
import { SpanPolicy } from '../../src/policy/span-policy.js';
import type { PolicyEvaluator } from '../../src/policy/policy-engine.js';
import { recordSpans, serializeSpans } from '../support/otel.js';
import { opaBinary, startOpa, type OpaServer } from '../support/opa.js';
import { rulesFor } from '../support/rules-yaml.js';

const rules = (deepMaxSec: number) => `${rulesFor(`opa-stage-${deepMaxSec}`)}scopes:
  id: scope.diminishment
  implications:
    cloud:read: ["ec2:Describe*"]
lifetime:
  - id: lifetime.deep
    fromDepth: 3
    maxSec: ${deepMaxSec}
  - id: lifetime.write
    scopes: [reports:write]
    fromDepth: 2
    maxSec: 7200
approval:
  - id: approval.pii
    scopes: ["pii:*"]
`;

interface Case {
  chain: string[];
  agent: string;
  scopes: string[];
  approvals?: string[];
}

interface Stored {
  name: string;
  verdict: string;
  reasons: string[];
  result: string | null;
  rules: string[];
  reason_codes: string[];
  policy_version: string | null;
  revision: string | null;
}

const bin = opaBinary();

describe('OPA as the policy stage engine', { skip: bin.path ? false : `no OPA binary: ${bin.why}` }, () => {
  let root: string;
  let domain: TestDomain;
  let opa: OpaServer;
  const servers: RunningServer[] = [];
  let builtin: RunningServer;
  let viaOpa: RunningServer;
  let cases: Record<string, Case>;

  async function start(db: string, env: Record<string, string>): Promise<RunningServer> {
    const config = loadConfig({ ...process.env, CLICKHOUSE_URL: '', ...env }, { data: join(root, 'data'), trustDir: domain.dir, rules: join(root, 'rules.yaml'), otlpPort: 0, apiPort: 0 });
    config.store.database = db;
    const s = await startServer(config, createLogger('silent'));
    servers.push(s);
    return s;
  }

  async function writeRules(text: string): Promise<void> {
    await writeFile(join(root, 'rules.tmp'), text);
    await rename(join(root, 'rules.tmp'), join(root, 'rules.yaml'));
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'chainsight-opa-stage-'));
    await writeRules(rules(1000));
    domain = await makeTrustDomain();
    opa = await startOpa(bin.path as string);
    const chain2 = await standardChain(domain, { depth: 2 });
    const chain1 = await standardChain(domain, { depth: 1 });
    const rogue = await mintChild({ parentChain: chain1, signerKey: domain.agents.planner as SigningKey, delegatee: domain.id('rogue'), scope: ['cloud:read'], ttlSec: 600, now: Date.now() });
    const pii = await mintRoot({ authzKey: domain.authz, human: 'alice@company.com', agent: domain.id('planner'), scope: ['cloud:read', 'pii:read'], task: TASK, purpose: 'audit', ttlSec: 7200, now: Date.now() - 60_000 });
    const approve = (now: number) => mintApproval({ key: domain.authz, approver: 'carol@company.com', link: pii[0]!, scope: ['pii:read'], ttlSec: 3600, now });
    cases = {
      // Denied by lifetime.deep (the third link lives 1,800 s).
      deep: { chain: await standardChain(domain), agent: 'scanner', scopes: ['cloud:read'] },
      // Allowed, under depth, scope and lifetime.write rules.
      shallow: { chain: chain2, agent: 'inventory', scopes: ['cloud:list'] },
      // Beyond its grant: the verifier's scope.exceeded and the policy's scope.diminishment.
      beyond: { chain: chain2, agent: 'inventory', scopes: ['iam:CreateAccessKey'] },
      // A delegatee whose type the policy does not list.
      rogue: { chain: rogue, agent: 'rogue', scopes: ['cloud:read'] },
      // Human approvals, judged at the action's time: one in force, one that expired an hour ago.
      approved: { chain: pii, agent: 'planner', scopes: ['pii:read'], approvals: [await approve(Date.now() - 60_000)] },
      lapsed: { chain: pii, agent: 'planner', scopes: ['pii:read'], approvals: [await approve(Date.now() - 7_200_000)] },
      // No chain: nothing for the policy to judge.
      bare: { chain: [], agent: 'scanner', scopes: ['cloud:read'] },
    };
    builtin = await start('opa_stage_builtin', {});
    viaOpa = await start('opa_stage_opa', { CHAINSIGHT_POLICY_ENGINE: 'opa', CHAINSIGHT_OPA_URL: opa.url, CHAINSIGHT_OPA_CACHE_TTL_MS: '60000' });
  });

  after(async () => {
    for (const s of servers) await s.stop();
    await opa?.stop();
    await domain?.cleanup();
    await rm(root, { recursive: true, force: true });
  });

  /** One OTLP request with `n` spans of each case, named `<prefix>-<case>-<i>`. */
  async function body(prefix: string, n: number, only?: string[]): Promise<Uint8Array> {
    const spans = await recordSpans({ 'service.name': 'agents' }, (tracer) => {
      for (const [name, c] of Object.entries(cases)) {
        if (only && !only.includes(name)) continue;
        for (let i = 0; i < n; i++) {
          const attributes = agentSpanAttributes({ chain: c.chain, taskId: TASK, agentId: domain.id(c.agent), agentName: c.agent, operation: 'execute_tool', toolName: 'call', scopesUsed: c.scopes });
          if (c.approvals) attributes[APPROVALS_ATTRIBUTE] = c.approvals;
          tracer.startSpan(`execute_tool ${prefix}-${name}-${i}`, { attributes }).end();
        }
      }
    });
    return serializeSpans(spans, 'protobuf');
  }

  async function post(s: RunningServer, b: Uint8Array): Promise<void> {
    const res = await fetch(`${s.otlpUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: b });
    assert.equal(res.status, 200, await res.text());
  }

  async function stored(s: RunningServer, prefix: string, expect: number): Promise<Map<string, Stored>> {
    const p = s.pipeline;
    const deadline = Date.now() + 20_000;
    for (;;) {
      const rs = await p.readerClient.query({
        query: `SELECT a.name AS name, a.verdict AS verdict, a.reasons AS reasons, d.result AS result, d.rules AS rules, d.reason_codes AS reason_codes, d.policy_version AS policy_version, d.revision AS revision
                FROM (SELECT * FROM ${p.database}.actions WHERE startsWith(name, {p:String}) ORDER BY received_at DESC LIMIT 1 BY trace_id, span_id) AS a
                LEFT JOIN (SELECT * FROM ${p.database}.policy_decisions ORDER BY decided_at DESC LIMIT 1 BY trace_id, span_id) AS d USING (trace_id, span_id)
                SETTINGS join_use_nulls = 1`,
        query_params: { p: `execute_tool ${prefix}-` },
        format: 'JSONEachRow',
      });
      const rows = await rs.json<Stored>();
      if (rows.length >= expect || Date.now() > deadline) {
        assert.equal(rows.length, expect, `every span of ${prefix} stored`);
        return new Map(rows.map((r) => [r.name.replace(`execute_tool ${prefix}-`, ''), r]));
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  test('the same spans get the same verdicts and decisions from OPA as from the built-in engine', async () => {
    const b = await body('same', 3);
    await post(builtin, b);
    await post(viaOpa, b);
    const want = await stored(builtin, 'same', 21);
    const got = await stored(viaOpa, 'same', 21);
    assert.deepEqual(got, want);
    // And they are the verdicts the policy gives, not merely equal.
    const v = (k: string) => `${want.get(k)!.verdict} ${want.get(k)!.reasons.join(',')} ${want.get(k)!.result}`;
    assert.equal(v('deep-0'), 'failed policy.lifetime.deep deny');
    assert.equal(v('shallow-0'), 'verified  allow');
    assert.equal(v('beyond-0'), 'failed scope.exceeded,policy.scope.diminishment deny');
    // Twice: the link's delegatee and the acting agent.
    assert.equal(v('rogue-0'), 'failed policy.agent-type.known,policy.agent-type.known deny');
    assert.equal(v('approved-0'), 'verified  allow');
    assert.equal(v('lapsed-0'), 'failed policy.approval.pii deny');
    assert.equal(want.get('bare-0')!.result, null, 'no chain: no decision');
    assert.deepEqual(want.get('shallow-0')!.rules, ['agent-type.known', 'depth.global', 'lifetime.write', 'scope.diminishment']);
  });

  test('a reload reaches OPA; an OPA that lost its data gets the policy again', async () => {
    await writeRules(rules(2000));
    // Deep links may now live 2,000 s: wait until OPA judges by the new policy.
    const deadline = Date.now() + 20_000;
    let round = 0;
    for (;;) {
      await post(viaOpa, await body(`reload${round}`, 1, ['deep']));
      const r = (await stored(viaOpa, `reload${round}`, 1)).get('deep-0')!;
      round++;
      if (r.result === 'allow') {
        assert.equal(r.policy_version, 'opa-stage-2000');
        break;
      }
      assert.ok(Date.now() < deadline, 'the reloaded policy reached OPA');
      await new Promise((res) => setTimeout(res, 200));
    }
    // OPA restarted without data (simulated: the data deleted). Decisions fail closed, then resume.
    const del = await fetch(`${opa.url}/v1/data/chainsight/config`, { method: 'DELETE' });
    assert.equal(del.status, 204);
    const seen: string[] = [];
    const until = Date.now() + 20_000;
    for (let i = 0; ; i++) {
      // Another action each time, so no cached decision answers it.
      await post(viaOpa, await body(`lost${i}`, 1, ['shallow']));
      const r = (await stored(viaOpa, `lost${i}`, 1)).get('shallow-0')!;
      seen.push(r.result === 'allow' ? 'allow' : r.reasons.join(','));
      if (r.result === 'allow') break;
      assert.equal(r.reasons.join(), 'policy.engine.unavailable', 'while OPA has no policy, spans are denied, never allowed');
      assert.ok(Date.now() < until, `OPA got the policy again: ${seen.join(' ')}`);
      await new Promise((res) => setTimeout(res, 200));
    }
  });

  test('an unreachable OPA: every span answered 200 and stored, denied with policy.engine.unavailable', async () => {
    const down = await start('opa_stage_down', { CHAINSIGHT_POLICY_ENGINE: 'opa', CHAINSIGHT_OPA_URL: 'http://127.0.0.1:9', CHAINSIGHT_OPA_CACHE_TTL_MS: '0' });
    await post(down, await body('down', 2));
    const got = await stored(down, 'down', 14);
    for (const [name, r] of got) {
      if (name.startsWith('bare')) continue;
      assert.equal(r.verdict, 'failed', name);
      assert.ok(r.reasons.includes('policy.engine.unavailable'), name);
      assert.deepEqual([r.result, r.rules, r.revision], ['deny', ['engine.unavailable'], '']);
    }
    const metrics = await (await fetch(`${down.apiUrl}/metrics`)).text();
    assert.match(metrics, /chainsight_policy_opa_pushes_total\{result="failed"\} [1-9]/);
  });
});

test('CHAINSIGHT_POLICY_ENGINE=opa needs an OPA URL and a rules file', () => {
  assert.throws(() => loadConfig({ CHAINSIGHT_POLICY_ENGINE: 'opa' }, { rules: 'r.yaml' }), /CHAINSIGHT_OPA_URL/);
  assert.throws(() => loadConfig({ CHAINSIGHT_POLICY_ENGINE: 'opa', CHAINSIGHT_OPA_URL: 'http://127.0.0.1:8181' }), /needs a rules file/);
  assert.throws(() => loadConfig({ CHAINSIGHT_POLICY_ENGINE: 'cedar' }), /CHAINSIGHT_POLICY_ENGINE/);
  assert.throws(() => loadConfig({ CHAINSIGHT_POLICY_ENGINE: 'opa', CHAINSIGHT_OPA_URL: 'file:///x' }, { rules: 'r.yaml' }), /CHAINSIGHT_OPA_URL must be an http/);
  const c = loadConfig({ CHAINSIGHT_POLICY_ENGINE: 'opa', CHAINSIGHT_OPA_URL: 'http://127.0.0.1:8181', CHAINSIGHT_OPA_CACHE_TTL_MS: '0' }, { rules: 'r.yaml' });
  assert.deepEqual(c.policyEngine, { kind: 'opa', url: 'http://127.0.0.1:8181', cacheTtlMs: 0 });
  assert.deepEqual(loadConfig({}).policyEngine, { kind: 'builtin' });
});

test('an asynchronous engine that fails gives every span a deny, in span order, and the batch goes on', async () => {
  const d = await makeTrustDomain();
  try {
    const chain = await standardChain(d);
    const verifier = new ChainVerifier(await d.trust(), defaultPolicy());
    const spans = [spanFor(chain, { spanId: '0000000000000001' }), spanFor(null, { spanId: '0000000000000002' }), spanFor(chain, { spanId: '0000000000000003' })];
    const failing: PolicyEvaluator = { evaluateChain: () => Promise.reject(new Error('boom')), evaluateAction: () => Promise.reject(new Error('boom')) };
    const batch = new SpanBatch(spans, Date.now());
    spans.forEach((s, i) => (batch.details[i] = verifier.verifyDetailed(s)));
    await new PolicyStage(new SpanPolicy(failing, await d.trust()), 2).process(batch);
    assert.deepEqual(batch.rows(POLICY_DECISIONS).map((r) => [r.span_id, r.result, r.reason_codes.join()]), [
      ['0000000000000001', 'deny', 'policy.engine.unavailable'],
      ['0000000000000003', 'deny', 'policy.engine.unavailable'],
    ]);
    assert.equal(batch.verdict(0).status, 'failed');
    assert.match(batch.verdict(2).reasons.at(-1)!.message, /the engine failed: boom/);
  } finally {
    await d.cleanup();
  }
});
