/** Detector 4, cross-agent anomalies: its section parser and the detectors its configuration turns on. */
import type { DetectorSet } from '../registry.js';
import type { CrossAgentConfig } from './config.js';
import { createCrossAgentDetector, createCrossAgentStream } from './detector.js';

export { parseCrossAgentConfig, type CrossAgentConfig } from './config.js';

export function crossAgentDetectors(cfg: CrossAgentConfig): Partial<DetectorSet> {
  const { manyAgents, crossTask, rateSpike } = cfg;
  const resources = manyAgents.enabled || crossTask.enabled;
  return {
    streaming: resources && cfg.stream ? [createCrossAgentStream(cfg)] : [],
    windowed: resources || rateSpike.enabled ? [createCrossAgentDetector(cfg)] : [],
  };
}
