/**
 * The `scope` section of the detection config: over-provisioned grants.
 *
 * ```yaml
 * scope:
 *   enabled: true
 *   interval: 1h          # how often grants are judged
 *   window: 90d           # tracking window: unused for this long → finding
 *   current: 7d           # a scope granted within this period still stands
 *   levels: [agent, agent_type, edge]
 *   alert_below_share: 1  # raise when used ÷ granted is below this (1: any unused permission)
 * ```
 */
import { readBoolean, readDurationMs, readNumber, readSection, readStrings } from '../section-values.js';
import { SCOPE_LEVELS, type ScopeLevel } from './subjects.js';

export interface ScopeConfig {
  enabled: boolean;
  intervalMs: number;
  windowMs: number;
  currentMs: number;
  levels: ScopeLevel[];
  alertBelowShare: number;
}

export const SCOPE_DEFAULTS: Readonly<ScopeConfig> = Object.freeze({
  enabled: true,
  intervalMs: 3_600_000,
  // What cloud IAM analysers track by default (AWS IAM Access Analyzer, Google's IAM recommender).
  windowMs: 90 * 86_400_000,
  currentMs: 7 * 86_400_000,
  levels: [...SCOPE_LEVELS],
  alertBelowShare: 1,
});

const KNOWN = ['enabled', 'interval', 'window', 'current', 'levels', 'alert_below_share'];

export function parseScopeConfig(raw: unknown, at: string, problems: string[]): ScopeConfig {
  const f = readSection(raw, at, KNOWN, problems);
  const d = SCOPE_DEFAULTS;
  return {
    enabled: readBoolean(f.enabled, `${at}.enabled`, d.enabled, problems),
    intervalMs: readDurationMs(f.interval, `${at}.interval`, d.intervalMs, problems, 1000),
    windowMs: readDurationMs(f.window, `${at}.window`, d.windowMs, problems, 1000),
    currentMs: readDurationMs(f.current, `${at}.current`, d.currentMs, problems, 1000),
    levels: readStrings(f.levels, `${at}.levels`, d.levels, problems, SCOPE_LEVELS) as ScopeLevel[],
    alertBelowShare: readNumber(f.alert_below_share, `${at}.alert_below_share`, d.alertBelowShare, 0, 1, problems),
  };
}
