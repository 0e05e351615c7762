/** Detector 5, chain integrity: its section parser and the detectors its configuration turns on. */
import type { DetectorSet } from '../registry.js';
import type { IntegrityConfig } from './config.js';
import { VerificationBurstDetector } from './burst.js';
import { LinkReuseDetector } from './link-reuse.js';
import { NotDelegateeDetector } from './not-delegatee.js';

export { parseIntegrityConfig, type IntegrityConfig } from './config.js';

export function integrityDetectors(cfg: IntegrityConfig): Partial<DetectorSet> {
  return {
    streaming: cfg.notDelegatee.enabled ? [new NotDelegateeDetector(cfg.notDelegatee.severity ? { severity: cfg.notDelegatee.severity } : {})] : [],
    windowed: [
      ...(cfg.burst.enabled ? [new VerificationBurstDetector(cfg.burst)] : []),
      ...(cfg.linkReuse.enabled ? [new LinkReuseDetector(cfg.linkReuse)] : []),
    ],
  };
}
