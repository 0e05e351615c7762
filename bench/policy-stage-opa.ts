/**
 * The policy stage with OPA as its engine beside the built-in engine, on the
 * same decoded and verified batches in one run: spans per second through the
 * stage alone, OPA's decision cache on (every span a distinct action time, so
 * a miss unless re-delivered) and its second pass (re-delivered spans: hits).
 * Run: node --import tsx bench/policy-stage-opa.ts
 */
import { spawnSync } from 'node:child_process';
import { ChainVerifier, TrustStore, defaultPolicy } from '../src/verify/index.js';
import { decodeOtlp } from '../src/ingest/otlp/index.js';
import { resolveIngestLimits } from '../src/ingest/limits.js';
import { SpanBatch } from '../src/pipeline/stage.js';
import { PolicyEngine } from '../src/policy/policy-engine.js';
import { OpaPolicyClient } from '../src/policy/opa-client.js';
import { OpaEngine } from '../src/policy/opa-engine.js';
import { SpanPolicy } from '../src/policy/span-policy.js';
import { PolicyStage } from '../src/policy/stage.js';
import { parsePolicy } from '../src/policy/loader.js';
import { startOpa } from '../test/support/opa.js';
import { makeWorkload } from './workload.js';
import { median, report } from './stats.js';

const w = await makeWorkload({ chains: 200, spansPerChain: 10, spansPerRequest: 500 });
const policy = parsePolicy(`version: bench
agentTypes:
  id: agent-type.known
  patterns: [{path: "/agent/{type}/*"}, {path: "/agent/{type}/*/*"}]
  types: [planning, inventory]
depth: [{id: depth.global, max: 5}]
scopes:
  id: scope.diminishment
  implications: ${JSON.stringify(w.implications)}
lifetime: [{id: lifetime.max, maxSec: 14400}]
`);
const trust = await TrustStore.fromDirectory(w.trustDir);
const verifier = new ChainVerifier(trust, { ...defaultPolicy(), implications: w.implications });
const limits = resolveIngestLimits();
const batches = w.protobuf.map((b) => {
  const spans = decodeOtlp(b, 'protobuf', limits).spans;
  return { spans, details: spans.map((s) => verifier.verifyDetailed(s)) };
});

async function pass(stage: PolicyStage): Promise<{ perSec: number; denied: number }> {
  let n = 0;
  let denied = 0;
  const start = performance.now();
  for (const b of batches) {
    const batch = new SpanBatch(b.spans, Date.now());
    b.details.forEach((d, i) => (batch.details[i] = d));
    await stage.process(batch);
    for (let i = 0; i < b.spans.length; i++) if (batch.verdict(i).status !== 'verified') denied++;
    n += b.spans.length;
  }
  return { perSec: (n * 1000) / (performance.now() - start), denied };
}

const builtin = new PolicyStage(new SpanPolicy(new PolicyEngine(policy), trust));
await pass(builtin);
const built: number[] = [];
for (let r = 0; r < 5; r++) built.push((await pass(builtin)).perSec);

const bin = process.env.OPA_BIN ?? spawnSync('bash', ['scripts/build-opa.sh'], { encoding: 'utf8' }).stdout.trim().split('\n').pop();
if (!bin) throw new Error('no OPA binary');
const server = await startOpa(bin);
try {
  const engine = new OpaEngine(new OpaPolicyClient({ url: server.url, ttlMs: 60_000 }), policy);
  if (!(await engine.use(policy))) throw new Error('OPA did not take the policy');
  const opa = new PolicyStage(new SpanPolicy(engine, trust));
  const first = await pass(opa);
  const again = await pass(opa);
  const spans = batches.reduce((n, b) => n + b.spans.length, 0);
  if (first.denied + again.denied > 0) throw new Error(`OPA denied ${first.denied + again.denied} bench spans`);
  report({
    spans,
    builtin_stage_spans_per_sec: median(built),
    opa_stage_misses_spans_per_sec: first.perSec,
    opa_stage_hits_spans_per_sec: again.perSec,
    opa_over_builtin_misses: first.perSec / median(built),
    opa_over_builtin_hits: again.perSec / median(built),
  });
} finally {
  await server.stop();
}
