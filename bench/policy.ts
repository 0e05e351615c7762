/**
 * Policy evaluation cost per action: the built-in engine (cached, as the
 * pipeline holds it, and uncached), the processing stage with policy on ÷
 * off, and a real OPA server's REST latency for the same inputs, in one run.
 */
import { spawnSync } from 'node:child_process';
import { ChainVerifier, TrustStore, defaultPolicy } from '../src/verify/index.js';
import { actionInput, chainInput } from '../src/policy/input.js';
import { evaluateAction } from '../src/policy/engine.js';
import { PolicyEngine } from '../src/policy/policy-engine.js';
import { parsePolicy } from '../src/policy/loader.js';
import { OpaPolicyClient } from '../src/policy/opa-client.js';
import type { ActionPolicyInput } from '../src/policy/types.js';
import type { ChainCheck } from '../src/model/delegation.js';
import { startOpa } from '../test/support/opa.js';
import { decodeOtlp } from '../src/ingest/otlp/index.js';
import { resolveIngestLimits } from '../src/ingest/limits.js';
import { Processor } from '../src/pipeline/processor.js';
import { SinkRegistry } from '../src/pipeline/sinks.js';
import { pipelineStages } from '../src/runtime/pipeline.js';
import { ACTIONS, DELEGATIONS } from '../src/correlate/stages.js';
import { POLICY_DECISIONS } from '../src/policy/stage.js';
import { SpanPolicy } from '../src/policy/span-policy.js';
import { IMPLICATIONS, makeWorkload } from './workload.js';
import { makeSpanFor } from './spans.js';
import { percentile, report, sideBySide } from './stats.js';

const policy = parsePolicy(`version: bench
agentTypes:
  id: agent-type.known
  patterns: [{path: "/agent/{type}/*"}, {path: "/agent/{type}/*/*"}]
  types: [planning, inventory]
depth: [{id: depth.global, max: 5}, {id: depth.planning, rootAgentType: planning, max: 4}]
scopes:
  id: scope.diminishment
  implications: ${JSON.stringify(IMPLICATIONS)}
  wildcards: {id: scope.wildcard, allowed: true, minPrefixLength: 3}
lifetime: [{id: lifetime.max, maxSec: 14400}, {id: lifetime.write, scopes: ["reports:write", "iam:*"], maxSec: 7200}, {id: lifetime.deep, fromDepth: 3, maxSec: 3600}]
delegation: [{id: types.inventory-from-planning, to: [inventory], from: [planning, inventory]}]
crossDomain: {id: cross-domain.default, allow: [{id: cross.partner, from: bench.example, to: partner.example, maxScope: ["reports:read"]}]}
approval: [{id: approval.pii, scopes: ["pii:*"]}]
`);

const w = await makeWorkload({ chains: 1000, spansPerChain: 1, spansPerRequest: 1000 });
const trust = await TrustStore.fromDirectory(w.trustDir);
const verifier = new ChainVerifier(trust, { ...defaultPolicy(), implications: w.implications });
const spans = w.chains.map((c) => makeSpanFor(c));
const inputs: ActionPolicyInput[] = spans.map((s) => {
  const d = verifier.verifyDetailed(s);
  if (d.verdict.status !== 'verified') throw new Error('bench chain should verify');
  return actionInput(chainInput(d.check as ChainCheck, s.chain!.length, []), s);
});
for (const i of inputs) if (evaluateAction(policy, i).result !== 'allow') throw new Error(`bench action should be allowed: ${JSON.stringify(evaluateAction(policy, i).reasons)}`);

/** Per-call latencies in µs over `rounds` passes of the inputs. */
function latencies(fn: (i: ActionPolicyInput) => unknown, rounds: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const i of inputs) {
      const t = process.hrtime.bigint();
      fn(i);
      out.push(Number(process.hrtime.bigint() - t) / 1000);
    }
  }
  return out.sort((a, b) => a - b);
}

const engine = new PolicyEngine(policy);
latencies((i) => engine.evaluateAction(i), 20); // warm-up (and fills the cache)
latencies((i) => evaluateAction(policy, i), 10);
const cached = latencies((i) => engine.evaluateAction(i), 100);
const uncached = latencies((i) => evaluateAction(policy, i), 30);

// The processing stage (decode → stages, as bench/processing.ts runs it, cold
// caches per pass) with the policy stage in the pipeline (its decisions and
// their decision-log rows) against the same pipeline without it; passes
// alternate so both see one machine.
const stream = await makeWorkload({ chains: 400, spansPerChain: 50, spansPerRequest: 500 });
const streamTrust = await TrustStore.fromDirectory(stream.trustDir);
const limits = resolveIngestLimits();
const discard = { write: async () => [], flush: async () => undefined, close: async () => undefined };
const sinks = new SinkRegistry().register(ACTIONS, discard).register(DELEGATIONS, discard).register(POLICY_DECISIONS, discard);
async function stagePass(withPolicy: boolean): Promise<number> {
  const v = new ChainVerifier(streamTrust, { ...defaultPolicy(), implications: stream.implications });
  const spanPolicy = withPolicy ? new SpanPolicy(new PolicyEngine(policy), streamTrust) : undefined;
  const processor = new Processor(pipelineStages((span) => v.verifyDetailed(span), spanPolicy), sinks);
  let spans = 0;
  let denied = 0;
  const start = performance.now();
  for (const body of stream.protobuf) {
    const decoded = decodeOtlp(body, 'protobuf', limits);
    const batch = await processor.process(decoded.spans);
    for (let i = 0; i < decoded.spans.length; i++) if (batch.verdict(i).reasons.some((r) => r.code.startsWith('policy.'))) denied++;
    spans += decoded.spans.length;
  }
  const perSec = (spans * 1000) / (performance.now() - start);
  if (denied > 0) throw new Error(`${denied} bench actions were denied`);
  return perSec;
}
await stagePass(false);
await stagePass(true);
const paired = await sideBySide(stagePass);

// OPA: the same inputs over its REST data API, no decision cache, one at a time.
let opa: Record<string, number | string> = { opa: 'unavailable' };
const built = spawnSync('bash', ['scripts/build-opa.sh'], { encoding: 'utf8' });
const bin = process.env.OPA_BIN ?? (built.status === 0 ? built.stdout.trim().split('\n').pop() : undefined);
if (bin) {
  const server = await startOpa(bin);
  try {
    const client = new OpaPolicyClient({ url: server.url, ttlMs: 0 });
    await client.putPolicy(policy);
    const ask = async (n: number) => {
      const out: number[] = [];
      for (let k = 0; k < n; k++) {
        const i = inputs[k % inputs.length]!;
        const t = process.hrtime.bigint();
        const d = await client.evaluateAction(i);
        out.push(Number(process.hrtime.bigint() - t) / 1000);
        if (d.result !== 'allow') throw new Error(`OPA disagrees on a bench input: ${JSON.stringify(d.reasons)}`);
      }
      return out.sort((a, b) => a - b);
    };
    await ask(300);
    const l = await ask(3000);
    // The bare HTTP round trip (GET /health) on the same connection pool, to
    // tell transport from evaluation.
    const h: number[] = [];
    for (let k = 0; k < 1000; k++) {
      const t = process.hrtime.bigint();
      await (await fetch(`${server.url}/health`)).text();
      h.push(Number(process.hrtime.bigint() - t) / 1000);
    }
    h.sort((a, b) => a - b);
    opa = { opa_us_p50: percentile(l, 50), opa_us_p99: percentile(l, 99), opa_health_us_p50: percentile(h, 50) };
  } finally {
    await server.stop();
  }
}

report({
  builtin_cached_us_p50: percentile(cached, 50),
  builtin_cached_us_p99: percentile(cached, 99),
  builtin_uncached_us_p50: percentile(uncached, 50),
  builtin_uncached_us_p99: percentile(uncached, 99),
  stage_policy_off_spans_per_sec: paired.off,
  stage_policy_on_spans_per_sec: paired.on,
  stage_on_over_off: paired.ratio,
  ...opa,
});
