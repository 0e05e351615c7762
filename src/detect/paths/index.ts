/** Detector 1, unexpected delegation edges and path shapes: its section parser and detector. */
import type { DetectorSet } from '../registry.js';
import type { PathsConfig } from './config.js';
import { PathsDetector } from './detector.js';

export { parsePathsConfig, type PathsConfig } from './config.js';

export function pathsDetectors(cfg: PathsConfig): Partial<DetectorSet> {
  return { streaming: cfg.enabled ? [new PathsDetector(cfg)] : [] };
}
