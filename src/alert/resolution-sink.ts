/**
 * Detectors' self-resolutions through the sink seam: the alert store writes
 * each only for an alert that exists and is not resolved yet.
 */
import type { Sink } from '../pipeline/sinks.js';
import type { RefusedRow } from '../store/errors.js';
import type { AlertResolutionRow } from './rows.js';
import type { AlertStore } from './store.js';

export class AlertResolutionSink implements Sink<AlertResolutionRow> {
  constructor(private readonly store: AlertStore) {}

  async write(rows: AlertResolutionRow[]): Promise<RefusedRow<AlertResolutionRow>[]> {
    await this.store.applyResolutions(rows);
    return [];
  }

  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}
