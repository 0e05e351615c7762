/**
 * The detectors' interfaces. Streaming detectors see each processed batch
 * (after correlation: final verdicts, action and delegation rows) and answer
 * synchronously; windowed detectors run on an interval against the store.
 * Both keep what they learn in ClickHouse (or rebuild it from what the store
 * holds at start), so any processor can restart, and N processors raise each
 * alert once (alert ids are derived, see alert.ts).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { ActionRow, DelegationRow } from '../correlate/rows.js';
import type { Logger } from '../runtime/logger.js';
import type { ImplicationMap } from '../verify/scope.js';
import type { AlertResolution, AlertSignal } from './alert.js';

/** What a streaming detector sees of one batch. */
export interface DetectionInput {
  /** The batch's judging time (ms), the same as every row's received_at. */
  nowMs: number;
  /** One row per span, with its final verdict and reasons. */
  actions: readonly ActionRow[];
  /** Links first stored (or whose validity changed) in this batch. */
  delegations: readonly DelegationRow[];
}

/** What detectors may use to read the store (baselines, windows). */
export interface DetectorContext {
  client: ClickHouseClient;
  database: string;
  logger: Logger;
  /** The verifier's scope implication map (schemas/delegation-token.md §5), for detectors that judge scope coverage as verification does. */
  implications?: ImplicationMap;
}

export interface DetectorOutput {
  signals: AlertSignal[];
  resolutions?: AlertResolution[];
}

export interface StreamingDetector {
  readonly name: string;
  /** Loads the baseline from what the store already holds, so a restart or a new processor does not relearn from nothing. */
  start?(ctx: DetectorContext, nowMs: number): Promise<void>;
  /** Judges one batch; pure with respect to I/O, fast (it runs on the processing stage). */
  observe(input: DetectionInput): DetectorOutput;
}

export interface WindowedDetector {
  readonly name: string;
  /** How often it runs; alerts from it arrive within this interval. */
  readonly intervalMs: number;
  evaluate(ctx: DetectorContext, nowMs: number): Promise<DetectorOutput>;
}
