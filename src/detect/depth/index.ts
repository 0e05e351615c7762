/** Detector 2, chain depth: its section parser and detector. */
import type { DetectorSet } from '../registry.js';
import type { DepthConfig } from './config.js';
import { DepthDetector } from './detector.js';

export { parseDepthConfig, type DepthConfig } from './config.js';

export function depthDetectors(cfg: DepthConfig): Partial<DetectorSet> {
  return { streaming: cfg.enabled ? [new DepthDetector(cfg)] : [] };
}
