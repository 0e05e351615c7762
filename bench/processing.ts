/**
 * Processing stage on one core: decode → verify → correlate, no storage.
 * Each chain recurs on ~50 spans, so about one span in fifty pays for a full
 * (uncached) chain verification, as in a live stream.
 */
import { decodeOtlp } from '../src/ingest/otlp/index.js';
import { resolveIngestLimits } from '../src/ingest/limits.js';
import { Processor } from '../src/pipeline/processor.js';
import { SinkRegistry } from '../src/pipeline/sinks.js';
import { ACTIONS, DELEGATIONS } from '../src/correlate/stages.js';
import { pipelineStages } from '../src/runtime/pipeline.js';
import { ChainVerifier, TrustStore, defaultPolicy } from '../src/verify/index.js';
import { makeWorkload } from './workload.js';
import { report } from './stats.js';

const limits = resolveIngestLimits();
const w = await makeWorkload({ chains: 400, spansPerChain: 50, spansPerRequest: 500 });
const trust = await TrustStore.fromDirectory(w.trustDir);
const policy = { ...defaultPolicy(), implications: w.implications };
const discard = { write: async () => [], flush: async () => undefined, close: async () => undefined };
const sinks = new SinkRegistry().register(ACTIONS, discard).register(DELEGATIONS, discard);

async function pass(format: 'protobuf' | 'json', verify: boolean): Promise<number> {
  // Cold caches: every chain's first span verifies it. Built before the clock
  // starts, as a long-running process builds them once.
  const verifier = new ChainVerifier(trust, policy);
  const processor = new Processor(pipelineStages((span) => verifier.verifyDetailed(span)), sinks);
  const bodies = format === 'protobuf' ? w.protobuf : w.json;
  let spans = 0;
  const start = performance.now();
  for (const body of bodies) {
    const decoded = decodeOtlp(body, format, limits);
    if (verify) await processor.ingest(decoded.spans);
    spans += decoded.spans.length;
  }
  return (spans * 1000) / (performance.now() - start);
}

// Warm-up passes let the JIT settle; then the best of three timed passes per mode.
const modes = [
  ['pipeline_protobuf', 'protobuf', true],
  ['decode_only_protobuf', 'protobuf', false],
  ['pipeline_json', 'json', true],
  ['decode_only_json', 'json', false],
] as const;
for (const [, f, v] of modes) await pass(f, v);
const result: Record<string, number> = { spans: w.spans, chains: w.chains.length };
for (const [name, f, v] of modes) {
  const runs = [await pass(f, v), await pass(f, v), await pass(f, v)];
  result[name] = Math.max(...runs);
}
report(result);
