/**
 * Detection's metrics, registered on the process's registry: detectors that
 * threw (the spans of their batch are unaffected), and signals emitted.
 */
import { Counter, Histogram, type Registry } from 'prom-client';

export interface DetectionMetrics {
  /** A detector threw or rejected; `phase` is observe, start or evaluate. */
  errors: Counter<'detector' | 'phase'>;
  signals: Counter<'detector' | 'kind'>;
  /** How long a windowed detector's evaluation took. */
  evaluateSeconds: Histogram<'detector'>;
}

export function detectionMetrics(registry: Registry): DetectionMetrics {
  return {
    errors: new Counter({ name: 'chainsight_detector_errors_total', help: 'Detector failures by detector and phase (observe, start, evaluate); other detectors and the spans are unaffected', labelNames: ['detector', 'phase'], registers: [registry] }),
    signals: new Counter({ name: 'chainsight_alert_signals_total', help: 'Alert signals emitted by detector and kind (a redelivered trigger counts again here, once in the alert)', labelNames: ['detector', 'kind'], registers: [registry] }),
    evaluateSeconds: new Histogram({ name: 'chainsight_detector_evaluate_seconds', help: 'Duration of a windowed detector evaluation', labelNames: ['detector'], buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30], registers: [registry] }),
  };
}
