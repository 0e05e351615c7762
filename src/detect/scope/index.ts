/** Detector 3, over-provisioned scope: its section parser and the detector its configuration turns on. */
import type { DetectorSet } from '../registry.js';
import type { ScopeConfig } from './config.js';
import { createScopeDetector } from './detector.js';

export { parseScopeConfig, type ScopeConfig } from './config.js';

export function scopeDetectors(cfg: ScopeConfig): Partial<DetectorSet> {
  return { windowed: cfg.enabled && cfg.levels.length > 0 ? [createScopeDetector(cfg)] : [] };
}
