/**
 * Detection evaluation: the labeled scenario (src/eval/) replayed through the
 * real pipeline on chdb, as src/runtime/pipeline.ts wires it with the
 * detectors of src/detect/registry.ts, on a simulated clock. The alerts
 * table is scored against the labels: precision and recall per alert kind
 * and per detector are printed, and each detector must stay above the floors
 * set in FLOORS (justified there and in schemas/alerts.md, "Evaluation").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/config.js';
import { DETECTION_MODULES } from '../../src/detect/registry.js';
import { openPipeline } from '../../src/runtime/pipeline.js';
import { generateScenario } from '../../src/eval/plan.js';
import { materialize } from '../../src/eval/materialize.js';
import { evalDetectionYaml } from '../../src/eval/detection-config.js';
import { replayScenario } from '../../src/eval/replay.js';
import { formatScore, precision, precisionWithBenign, recall, scoreAlerts } from '../../src/eval/score.js';

/** Ten simulated days: four of learning, then one anomaly of every kind per tenant. */
const OPTIONS = { days: 10, learningDays: 4, batchMs: 60 * 60_000 };

/**
 * Floors per detector, set below the measured run (schemas/alerts.md,
 * "Evaluation", has the figures and the reasoning). The scenario and the
 * detectors are deterministic for a seed, so a drop means a change in one or
 * the other. Recall: a miss is an attack unseen. Precision counts alerts
 * about benign novelty (instance-level first sightings of a legitimately new
 * agent or pairing) as noise; `withBenign` counts them as right, so it bounds
 * alerts that match nothing in the scenario.
 */
const FLOORS: Record<string, { recall: number; precision: number; withBenign: number }> = {
  // Measured 100% recall, 65% precision: the 15 benign alerts are first-seen instance edges (new fleet members, pairings not met while learning).
  paths: { recall: 0.95, precision: 0.5, withBenign: 0.95 },
  depth: { recall: 0.95, precision: 0.95, withBenign: 0.95 },
  scope: { recall: 0.95, precision: 0.95, withBenign: 0.95 },
  // Measured 89% recall: one cross-human pair, 10 minutes apart, straddles a tumbling window boundary.
  'cross-agent': { recall: 0.8, precision: 0.9, withBenign: 0.95 },
  integrity: { recall: 0.95, precision: 0.95, withBenign: 0.95 },
  policy: { recall: 0.95, precision: 0.95, withBenign: 0.95 },
};

test('detection evaluation: precision and recall per detector on a labeled multi-tenant scenario', { timeout: 300_000 }, async (t) => {
  const started = performance.now();
  const scenario = generateScenario(OPTIONS);
  const dir = await mkdtemp(join(tmpdir(), 'chainsight-eval-'));
  const problems: string[] = [];
  const logger = pino({ level: 'warn' }, new Writable({ write(chunk, _enc, done) { problems.push(String(chunk)); done(); } }));
  try {
    const m = await materialize(scenario, dir);
    const detectionFile = join(dir, 'detection.yaml');
    await writeFile(detectionFile, evalDetectionYaml(scenario.options, Object.keys(DETECTION_MODULES)));
    const env = { CHAINSIGHT_DETECTION: detectionFile, CHAINSIGHT_DATABASE: `eval_${process.pid}`, ...(process.env.CLICKHOUSE_URL ? { CLICKHOUSE_URL: process.env.CLICKHOUSE_URL } : {}) };
    const config = loadConfig(env, { data: dir, trustDir: m.trustDir, policy: m.policyPath, rules: m.rulesPath, apiPort: 0, otlpPort: 0 });
    const pipeline = await openPipeline(config, logger, { defaultMetrics: false });
    try {
      const result = await replayScenario(scenario, m, pipeline, logger);
      const seconds = (performance.now() - started) / 1000;
      assert.deepEqual(result.verdictMismatches.slice(0, 10), [], 'every span is judged as the scenario planned it');
      const score = scoreAlerts(scenario.labels, result.alerts.map((a) => ({ id: a.id, kind: a.kind, tenant: a.tenant, subject: a.subject, taskId: a.taskId, agents: a.agents })));
      t.diagnostic(`${result.spans} spans in ${result.batches} batches over ${OPTIONS.days} simulated days, ${result.evaluations} windowed evaluations, ${result.alerts.length} alerts, ${seconds.toFixed(1)} s (ingest ${result.ingestSeconds.toFixed(1)} s, evaluations ${result.evaluateSeconds.toFixed(1)} s: ${Object.entries(result.evaluateSecondsBy).map(([d, x]) => `${d} ${x.toFixed(1)}`).join(', ')})`);
      for (const line of formatScore(score).split('\n')) t.diagnostic(line);
      for (const k of score.byKind) {
        for (const l of k.missed) t.diagnostic(`missed ${k.kind}: ${l.injection} — ${l.story}`);
        for (const a of k.unexpectedAlerts.slice(0, 5)) t.diagnostic(`unexpected ${k.kind}: ${a.subject} (task ${a.taskId || '-'})`);
      }
      assert.deepEqual(problems.filter((p) => /detector failed/.test(p)), [], 'no detector failed');
      for (const d of score.byDetector) {
        const floor = FLOORS[d.detector];
        assert.ok(floor, `a floor for ${d.detector}`);
        assert.ok(recall(d) >= floor.recall, `${d.detector}: recall ${recall(d).toFixed(3)} below its floor ${floor.recall}`);
        assert.ok(precision(d) >= floor.precision, `${d.detector}: precision ${precision(d).toFixed(3)} below its floor ${floor.precision}`);
        assert.ok(precisionWithBenign(d) >= floor.withBenign, `${d.detector}: ${d.unexpected} alerts match nothing in the scenario`);
      }
    } finally {
      await pipeline.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
