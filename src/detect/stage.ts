/**
 * The detect stage: runs last, after correlation, so it sees each span's
 * final verdict as an action row and the links first stored in the batch.
 * Each streaming detector's signals become ALERT_SIGNALS rows (and its
 * self-resolutions ALERT_RESOLUTIONS rows) for the alert store's sinks.
 * A detector that throws is counted and logged; the spans, and the other
 * detectors, go on as if it had said nothing.
 */
import type { SpanBatch, Stage } from '../pipeline/stage.js';
import { ACTIONS, DELEGATIONS } from '../correlate/stages.js';
import { ALERT_RESOLUTIONS, ALERT_SIGNALS, toResolutionRow, toSignalRow, type AlertResolutionRow, type AlertSignalRow } from '../alert/rows.js';
import type { DetectorOutput, StreamingDetector } from './detector.js';

export interface DetectFailure {
  detector: string;
  phase: 'observe' | 'start' | 'evaluate';
  error: unknown;
}

export interface DetectStageHooks {
  onError?(f: DetectFailure): void;
  onSignals?(detector: string, out: DetectorOutput): void;
}

/** A detector's output as alert rows; throws on a malformed signal (the detector's fault, caught with it). */
export function outputRows(detector: string, out: DetectorOutput): { signals: AlertSignalRow[]; resolutions: AlertResolutionRow[] } {
  return {
    signals: out.signals.map((s) => toSignalRow(s, detector)),
    resolutions: (out.resolutions ?? []).map((r) => toResolutionRow(r, detector)),
  };
}

export class DetectStage implements Stage {
  readonly name = 'detect';

  constructor(
    private readonly detectors: readonly StreamingDetector[],
    private readonly hooks: DetectStageHooks = {},
  ) {}

  process(batch: SpanBatch): void {
    const actions = batch.rows(ACTIONS);
    if (actions.length === 0) return;
    const input = { nowMs: batch.nowMs, actions, delegations: batch.rows(DELEGATIONS) };
    for (const d of this.detectors) {
      let out: DetectorOutput;
      let rows: ReturnType<typeof outputRows>;
      try {
        out = d.observe(input);
        if (out.signals.length === 0 && (out.resolutions?.length ?? 0) === 0) continue;
        rows = outputRows(d.name, out);
      } catch (error) {
        this.hooks.onError?.({ detector: d.name, phase: 'observe', error });
        continue;
      }
      // Not tied to a span: a refused alert row never fails the span that triggered it.
      for (const r of rows.signals) batch.emit(ALERT_SIGNALS, r);
      for (const r of rows.resolutions) batch.emit(ALERT_RESOLUTIONS, r);
      this.hooks.onSignals?.(d.name, out);
    }
  }
}
