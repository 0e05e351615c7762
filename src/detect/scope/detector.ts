/**
 * Detector 3, over-provisioned scope: on its interval, judges every agent,
 * agent type and delegation edge's standing grant against what was used
 * through it over the tracking window (schemas/alerts.md, "scope").
 */
import { ScopeMatcher, type ImplicationMap } from '../../verify/scope.js';
import type { DetectorContext, DetectorOutput, WindowedDetector } from '../detector.js';
import type { ScopeConfig } from './config.js';
import { judgeSubjects } from './findings.js';
import { readEdgeScopes } from './store.js';
import { buildSubjects } from './subjects.js';

export interface ScopeDetectorDeps {
  /** The policy's implication map: what a granted scope reaches (schemas/delegation-token.md §5). */
  implications?: ImplicationMap;
}

export function createScopeDetector(cfg: ScopeConfig, deps: ScopeDetectorDeps = {}): WindowedDetector {
  const matcher = new ScopeMatcher(deps.implications ?? {});
  return {
    name: 'scope',
    intervalMs: cfg.intervalMs,
    async evaluate(ctx: DetectorContext, nowMs: number): Promise<DetectorOutput> {
      // Grants that stopped standing up to a window ago are still read, so their subjects resolve.
      const { grants, uses } = await readEdgeScopes(ctx, nowMs - cfg.currentMs - cfg.windowMs);
      return judgeSubjects(buildSubjects(grants, uses, cfg.levels), cfg, matcher, nowMs);
    },
  };
}
