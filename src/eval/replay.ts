/**
 * Replays a materialized scenario through a real pipeline on a simulated
 * clock: each batch is ingested at its received time (the processor's
 * judging time), and each windowed detector is evaluated by the alert
 * scheduler at its interval on that same clock, its findings stored as the
 * pipeline stores them. Then it reads back what was stored: every action's
 * verdict (checked against the plan) and every alert.
 */
import { ALERT_SIGNALS } from '../alert/rows.js';
import type { AlertView } from '../alert/store.js';
import { buildDetectors } from '../detect/registry.js';
import { DetectorScheduler } from '../detect/scheduler.js';
import { outputRows } from '../detect/stage.js';
import type { Logger } from '../runtime/logger.js';
import type { Pipeline } from '../runtime/pipeline.js';
import { batchesOf, type Scenario } from './plan.js';
import type { MaterializedScenario } from './materialize.js';

export interface ReplayResult {
  spans: number;
  batches: number;
  evaluations: number;
  /** Wall-clock seconds spent ingesting batches and evaluating windowed detectors. */
  ingestSeconds: number;
  evaluateSeconds: number;
  /** Seconds per windowed detector. */
  evaluateSecondsBy: Record<string, number>;
  /** Spans whose stored verdict is not what the plan expects (the scenario's own check). */
  verdictMismatches: string[];
  alerts: AlertView[];
}

export async function replayScenario(s: Scenario, m: MaterializedScenario, p: Pipeline, logger: Logger): Promise<ReplayResult> {
  let simNow = s.options.startMs;
  const windowed = buildDetectors(p.detection).windowed;
  const scheduler = new DetectorScheduler(windowed, { client: p.readerClient, database: p.database, logger }, {
    now: () => simNow,
    deliver: async (name, out) => {
      const rows = outputRows(name, out);
      await Promise.all(p.sinks.sinksOf(ALERT_SIGNALS).map((sink) => sink.write(rows.signals)));
      await p.alerts.applyResolutions(rows.resolutions);
    },
    onError: (f) => { throw f.error; },
  });
  const step = s.options.batchMs;
  const batches = batchesOf(s);
  let next = 0;
  let evaluations = 0;
  let ingestMs = 0;
  let evaluateMs = 0;
  const by: Record<string, number> = {};
  for (let t = s.options.startMs + step; t <= s.endMs + step; t += step) {
    simNow = t;
    while (next < batches.length && batches[next]!.nowMs <= t) {
      const b = batches[next++]!;
      const t0 = performance.now();
      const result = await p.processor.ingest(b.spans.map((x) => m.toSpan(x)), b.nowMs);
      if (result.rejected > 0) throw new Error(`batch at ${new Date(b.nowMs).toISOString()}: ${result.errors.join('; ')}`);
      ingestMs += performance.now() - t0;
    }
    for (const d of windowed) {
      if ((t - s.options.startMs) % d.intervalMs !== 0) continue;
      const t0 = performance.now();
      await scheduler.runOnce(d);
      const ms = performance.now() - t0;
      evaluateMs += ms;
      by[d.name] = (by[d.name] ?? 0) + ms / 1000;
      evaluations++;
    }
  }
  await p.sinks.flush();
  return {
    spans: s.spans.length, batches: batches.length, evaluations, ingestSeconds: ingestMs / 1000, evaluateSeconds: evaluateMs / 1000, evaluateSecondsBy: by, verdictMismatches: await checkVerdicts(s, p), alerts: await allAlerts(p),
  };
}

async function checkVerdicts(s: Scenario, p: Pipeline): Promise<string[]> {
  const rs = await p.readerClient.query({ query: `SELECT span_id, verdict, reasons FROM ${p.database}.actions`, format: 'JSONEachRow' });
  const stored = new Map((await rs.json<{ span_id: string; verdict: string; reasons: string[] }>()).map((r) => [r.span_id, r]));
  const out: string[] = [];
  for (const span of s.spans) {
    const row = stored.get(span.spanId);
    const want = span.expect;
    if (!row) out.push(`${span.spanId} (${span.name}, ${span.taskId}) not stored`);
    else if (row.verdict !== want.verdict || (want.reason !== undefined && !row.reasons.includes(want.reason))) {
      out.push(`${span.spanId} (${span.name} by ${span.agentId}, ${span.taskId}): ${row.verdict} [${row.reasons.join(', ')}], planned ${want.verdict}${want.reason ? ` with ${want.reason}` : ''}`);
    }
  }
  return out;
}

async function allAlerts(p: Pipeline): Promise<AlertView[]> {
  const out: AlertView[] = [];
  let after: { lastSeen: string; id: string } | undefined;
  for (;;) {
    const page = await p.alerts.list({ limit: 500, ...(after ? { after } : {}) });
    out.push(...page.items);
    if (!page.next) return out;
    after = page.next;
  }
}
