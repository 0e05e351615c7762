/** Detector 6, policy violations: its section parser and detector. */
import type { DetectorSet } from '../registry.js';
import type { PolicyViolationConfig } from './config.js';
import { PolicyViolationDetector } from './violations.js';

export { parsePolicyViolationConfig, type PolicyViolationConfig } from './config.js';

export function policyDetectors(cfg: PolicyViolationConfig): Partial<DetectorSet> {
  return { streaming: cfg.enabled ? [new PolicyViolationDetector(cfg)] : [] };
}
