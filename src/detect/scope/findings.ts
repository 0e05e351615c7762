/**
 * From subjects to alerts: which grants are judged, which are
 * over-provisioned (signals), which no longer are (resolutions). Pure.
 *
 * Only scopes granted for the whole window are judged (first grant ≤ window
 * start), and only while they still stand (granted again within `current`):
 * a newer grant has not had the chance to be used, and a scope no longer
 * granted (the grant shrank) is no longer over-provisioned. One alert per
 * subject, window 0: each evaluation updates it, and it resolves itself when
 * the subject stops being over-provisioned.
 */
import { createHash } from 'node:crypto';
import type { AlertResolution, AlertSignal, Severity } from '../alert.js';
import type { DetectorOutput } from '../detector.js';
import type { ScopeMatcher } from '../../verify/scope.js';
import type { ScopeConfig } from './config.js';
import type { ScopeSubject } from './subjects.js';
import { analyseUsage, formatShare, type UsageAnalysis } from './usage.js';

export const SCOPE_KIND = 'scope.over_provisioned' as const;

const LEVEL_NOUN = { agent: 'agent', agent_type: 'agent type', edge: 'delegation' } as const;

/** Unused share → severity, on the Permission Creep Index's thirds (low 0–33, medium 34–66, high 67–100, one step softer: unused access is hygiene, not an attack). */
export function severityForShare(share: number): Severity {
  const unused = 1 - share;
  if (unused >= 0.67) return 'medium';
  if (unused >= 0.34) return 'low';
  return 'info';
}

/** A subject repeating a finer one adds no information: a type with one agent, an edge that is its agent's only grant. */
function repeatsFiner(s: ScopeSubject, levels: readonly string[]): boolean {
  if (s.level === 'agent_type') return s.parts <= 1 && levels.includes('agent');
  if (s.level === 'edge') return s.parts <= 1 && levels.includes('agent');
  return false;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function judgeSubjects(subjects: readonly ScopeSubject[], cfg: ScopeConfig, matcher: ScopeMatcher, nowMs: number): DetectorOutput {
  const windowStartMs = nowMs - cfg.windowMs;
  const signals: AlertSignal[] = [];
  const resolutions: AlertResolution[] = [];
  for (const s of subjects) {
    if (!cfg.levels.includes(s.level)) continue;
    // Neither raised nor resolved while a fresh link's uses may still be on their way to the store.
    if (s.unsettled) continue;
    const standing = s.granted.filter((g) => g.firstGrantedMs <= windowStartMs && g.lastGrantedMs >= nowMs - cfg.currentMs).map((g) => g.scope);
    const analysis = standing.length > 0 ? analyseUsage(matcher, standing, s.used, windowStartMs) : undefined;
    const unusedNow = analysis !== undefined && analysis.unused.length > 0 && analysis.share < cfg.alertBelowShare;
    if (unusedNow && !repeatsFiner(s, cfg.levels)) {
      signals.push(toSignal(s, standing, analysis, cfg, nowMs));
      continue;
    }
    // Stateless: every subject that is not over-provisioned says so; the alert store resolves only an alert that is open.
    const reason = analysis === undefined ? 'no scope has been granted for the whole window any more'
      : unusedNow ? `its finding is now the same as its ${s.level === 'edge' ? "agent's (its only grant)" : "only agent's"}`
      : analysis.unused.length === 0 ? `every granted permission was used (${formatShare(analysis.share)})`
      : `usage ${formatShare(analysis.share)} is at or above the alert threshold`;
    resolutions.push({ kind: SCOPE_KIND, tenant: s.tenant, subject: s.key, windowStartMs: 0, reason, atMs: nowMs });
  }
  return { signals, resolutions };
}

function toSignal(s: ScopeSubject, standing: string[], a: UsageAnalysis, cfg: ScopeConfig, nowMs: number): AlertSignal {
  const days = Math.round((cfg.windowMs / 86_400_000) * 100) / 100;
  const unused = a.unused.map((l) => `${l.scope} (${l.lastUsedMs === null ? 'never used' : `last used ${iso(l.lastUsedMs)}`})`);
  const used = a.leaves.length - a.unused.length;
  const summary = `${LEVEL_NOUN[s.level]} ${s.key} used ${used} of ${a.leaves.length} granted permissions (${formatShare(a.share)}) over ${days} days; unused: ${unused.join(', ')}; suggested grant: ${a.suggestion.length > 0 ? a.suggestion.join(' ') : '(none: nothing was used)'}`;
  // One trigger per finding and evaluation interval: every processor evaluating in the same interval records the
  // same one; the next interval's is new, so the count and last seen follow the finding, and an alert resolved
  // (by an analyst or because the scope got used) opens again if the grant is still, or again, over-provisioned.
  const finding = createHash('sha256').update(JSON.stringify([standing.sort(), a.unused.map((l) => [l.scope, l.lastUsedMs]), a.suggestion])).digest('hex').slice(0, 16);
  const eventKey = `${Math.floor(nowMs / cfg.intervalMs)}/${finding}`;
  return {
    kind: SCOPE_KIND,
    severity: severityForShare(a.share),
    tenant: s.tenant,
    subject: s.key,
    windowStartMs: 0,
    eventKey,
    observedAtMs: nowMs,
    taskId: '',
    human: s.human,
    agents: s.agents,
    chainHash: '',
    traceId: '',
    summary,
    evidence: {
      spanIds: [],
      linkIds: [],
      facts: {
        level: s.level,
        granted: standing.sort(),
        permissions: a.leaves.map((l) => l.scope),
        unused: unused,
        usage_share: formatShare(a.share),
        suggested_grant: a.suggestion,
        window_days: days,
      },
    },
  };
}
