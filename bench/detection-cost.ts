/**
 * Detection's cost on the processing stage: decode → verify → correlate with
 * the detect stage (every streaming detector the registry builds, in their
 * steady state: learning over, what they see already known) against the same
 * pipeline without it, passes alternating so both see one machine. As in
 * bench/processing.ts each chain recurs on ~50 spans and caches start cold
 * each pass; the detectors keep what they learned, as in a running process.
 */
import { stringify } from 'yaml';
import { decodeOtlp } from '../src/ingest/otlp/index.js';
import { resolveIngestLimits } from '../src/ingest/limits.js';
import { Processor } from '../src/pipeline/processor.js';
import { SinkRegistry } from '../src/pipeline/sinks.js';
import { pipelineStages } from '../src/runtime/pipeline.js';
import { ACTIONS, DELEGATIONS } from '../src/correlate/stages.js';
import { ALERT_RESOLUTIONS, ALERT_SIGNALS } from '../src/alert/rows.js';
import { parseDetectionConfig } from '../src/detect/config.js';
import { buildDetectors, DETECTION_MODULES } from '../src/detect/registry.js';
import { DetectStage } from '../src/detect/stage.js';
import type { DetectionInput } from '../src/detect/detector.js';
import { ChainVerifier, TrustStore, defaultPolicy } from '../src/verify/index.js';
import { makeWorkload } from './workload.js';
import { report, sideBySide } from './stats.js';

// Learning off, so the first-seen detectors judge every chain (their steady state) rather than short-circuit while learning.
const wanted: Record<string, unknown> = { paths: { learning_sec: 0 }, depth: { learning_sec: 0 } };
const sections = Object.fromEntries(Object.entries(wanted).filter(([k]) => k in DETECTION_MODULES));
const detectors = buildDetectors(parseDetectionConfig(stringify(sections), 'bench')).streaming;
if (detectors.length === 0) throw new Error('no streaming detector is registered');

const w = await makeWorkload({ chains: 400, spansPerChain: 50, spansPerRequest: 500 });
const trust = await TrustStore.fromDirectory(w.trustDir);
const limits = resolveIngestLimits();
const discard = { write: async () => [], flush: async () => undefined, close: async () => undefined };
const sinks = new SinkRegistry().register(ACTIONS, discard).register(DELEGATIONS, discard).register(ALERT_SIGNALS, discard).register(ALERT_RESOLUTIONS, discard);
let failures = 0;
const detect = new DetectStage(detectors, { onError: () => void failures++ });
let signals = 0;
const counting = new DetectStage(detectors, { onError: () => void failures++, onSignals: (_d, out) => void (signals += out.signals.length) });

async function pass(withDetection: boolean, stage: DetectStage = detect): Promise<number> {
  const verifier = new ChainVerifier(trust, { ...defaultPolicy(), implications: w.implications });
  const processor = new Processor(pipelineStages((span) => verifier.verifyDetailed(span), undefined, {}, withDetection ? stage : undefined), sinks);
  let spans = 0;
  const start = performance.now();
  for (const body of w.protobuf) {
    const decoded = decodeOtlp(body, 'protobuf', limits);
    await processor.process(decoded.spans);
    spans += decoded.spans.length;
  }
  return (spans * 1000) / (performance.now() - start);
}

// The first pass with detection teaches the detectors the workload's edges; it is not timed.
await pass(true, counting);
const firstSignals = signals;
await pass(false);
signals = 0;
await pass(true, counting);
if (signals !== 0) throw new Error(`${signals} signals on a known workload: the timed passes would not be the steady state`);

const paired = await sideBySide((on) => pass(on));
// The same with the cross-agent resource rules left to the store evaluation (`cross_agent.stream: false`).
const noStream = buildDetectors(parseDetectionConfig(stringify({ ...sections, ...('cross_agent' in DETECTION_MODULES ? { cross_agent: { stream: false } } : {}) }), 'bench')).streaming;
const withoutStream = await sideBySide((on) => pass(on, new DetectStage(noStream, { onError: () => void failures++ })), 5);
// Where the cost is: each detector's observe() alone over the workload's batches (rows as correlation built them),
// in µs per action, beside the processing stage's µs per span without detection.
const inputs: DetectionInput[] = [];
{
  const verifier = new ChainVerifier(trust, { ...defaultPolicy(), implications: w.implications });
  const processor = new Processor(pipelineStages((span) => verifier.verifyDetailed(span)), sinks);
  for (const body of w.protobuf) {
    const batch = await processor.process(decodeOtlp(body, 'protobuf', limits).spans);
    inputs.push({ nowMs: batch.nowMs, actions: batch.rows(ACTIONS), delegations: batch.rows(DELEGATIONS) });
  }
}
const actionsPerPass = inputs.reduce((n, i) => n + i.actions.length, 0);
const observeUs: Record<string, number> = {};
for (const d of detectors) {
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    for (const input of inputs) d.observe(input);
    runs.push(((performance.now() - t) * 1000) / actionsPerPass);
  }
  observeUs[`observe_us_per_action_${d.name.replace(/[^a-z0-9]+/gi, '_')}`] = Math.min(...runs);
}

if (failures > 0) throw new Error(`${failures} detector failures during the bench`);
report({
  detectors: detectors.length,
  detector_names: detectors.map((d) => d.name).join(','),
  first_pass_signals: firstSignals,
  detection_off_spans_per_sec: paired.off,
  detection_on_spans_per_sec: paired.on,
  detection_on_over_off: paired.ratio,
  detection_without_stream_on_over_off: withoutStream.ratio,
  processing_off_us_per_span: 1e6 / paired.off,
  ...observeUs,
});
