/**
 * Detector 3, over-provisioned scope: on its interval, judges every agent,
 * agent type and delegation edge's standing grant against what was used
 * through it over the tracking window (schemas/alerts.md, "scope").
 */
import { ScopeMatcher, type ImplicationMap } from '../../verify/scope.js';
import type { DetectorContext, DetectorOutput, WindowedDetector } from '../detector.js';
import type { ScopeConfig } from './config.js';
import { judgeSubjects } from './findings.js';
import { readEdgeScopes, readRecentEdges } from './store.js';
import { buildSubjects } from './subjects.js';

/**
 * What a granted scope reaches: the section's own implication map when it
 * gives one, else the verifier's (the context's), else none. One matcher per
 * map, so its closures stay memoised across evaluations.
 */
function matcherFor(cfg: ScopeConfig): (ctx: DetectorContext) => ScopeMatcher {
  let last: { map: ImplicationMap | undefined; matcher: ScopeMatcher } | undefined;
  return (ctx) => {
    const map = cfg.implications ?? ctx.implications;
    if (last === undefined || last.map !== map) last = { map, matcher: new ScopeMatcher(map ?? {}) };
    return last.matcher;
  };
}

export function createScopeDetector(cfg: ScopeConfig): WindowedDetector {
  const matcher = matcherFor(cfg);
  return {
    name: 'scope',
    intervalMs: cfg.intervalMs,
    async evaluate(ctx: DetectorContext, nowMs: number): Promise<DetectorOutput> {
      // Grants that stopped standing up to a window ago are still read, so their subjects resolve.
      const { grants, uses } = await readEdgeScopes(ctx, nowMs - cfg.currentMs - cfg.windowMs);
      // After the grants: a link whose grant was read is in delegations by now, so a fresh one is seen as fresh.
      const recent = cfg.settleMs > 0 ? await readRecentEdges(ctx, nowMs - cfg.settleMs) : new Set<string>();
      return judgeSubjects(buildSubjects(grants, uses, cfg.levels, recent), cfg, matcher(ctx), nowMs);
    },
  };
}
