import type { DetectorOutput } from '../../src/detect/detector.js';
import { outputRows } from '../../src/detect/stage.js';
import type { AlertStore } from '../../src/alert/store.js';
import type { TestStore } from './store.js';

/** What the pipeline does with a detector's output: signal rows into alert_signals, self-resolutions through the alert store. */
export async function deliver(store: TestStore, alerts: AlertStore, detector: string, out: DetectorOutput): Promise<void> {
  const rows = outputRows(detector, out);
  if (rows.signals.length > 0) await store.writer.insert({ table: `${store.config.database}.alert_signals`, format: 'JSONEachRow', values: rows.signals });
  await alerts.applyResolutions(rows.resolutions);
}
