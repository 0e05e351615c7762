/**
 * The `scope` section of the detection configuration (schemas/alerts.md,
 * detector 3): over-provisioned grants.
 *
 * ```yaml
 * scope:
 *   enabled: true
 *   interval_sec: 3600        # how often grants are judged
 *   window_sec: 7776000       # tracking window (90 days): granted that long and unused → finding
 *   current_sec: 604800       # a scope granted within this period (7 days) still stands
 *   levels: [agent, agent_type, edge]
 *   alert_below_share: 1      # raise when used ÷ granted is below this (1: any unused permission)
 *   settle_sec: 10            # a subject with a link recorded this recently waits for the next evaluation
 *   implications: {}          # scope → implied scopes, when the verifier's are not passed in
 * ```
 */
import { boolField, intField, numberField, objectAt, stringsField, unknownFields, type Fields } from '../config-fields.js';
import type { ImplicationMap } from '../../verify/scope.js';
import { SCOPE_LEVELS, type ScopeLevel } from './subjects.js';

export interface ScopeConfig {
  enabled: boolean;
  intervalMs: number;
  windowMs: number;
  currentMs: number;
  levels: ScopeLevel[];
  alertBelowShare: number;
  /**
   * A subject whose edges had a link recorded this recently is not judged yet:
   * grants and uses are stored by separate writers, so an evaluation between
   * the two would see a standing grant without its fresh uses.
   */
  settleMs: number;
  /** Undefined: the verifier's implication map, passed in by the runtime. */
  implications: ImplicationMap | undefined;
}

const DAY_SEC = 86_400;
export const SCOPE_DEFAULTS: Readonly<ScopeConfig> = Object.freeze({
  enabled: true,
  intervalMs: 3_600_000,
  // What cloud IAM analysers track by default (AWS IAM Access Analyzer, Google's IAM recommender).
  windowMs: 90 * DAY_SEC * 1000,
  currentMs: 7 * DAY_SEC * 1000,
  levels: [...SCOPE_LEVELS],
  alertBelowShare: 1,
  settleMs: 10_000,
  implications: undefined,
});

const KNOWN = ['enabled', 'interval_sec', 'window_sec', 'current_sec', 'levels', 'alert_below_share', 'settle_sec', 'implications'];

function implicationsField(o: Fields, at: string, problems: string[]): ImplicationMap | undefined {
  const v = o.implications;
  if (v === undefined) return undefined;
  const ok = typeof v === 'object' && v !== null && !Array.isArray(v)
    && Object.entries(v).every(([k, xs]) => k.length > 0 && Array.isArray(xs) && xs.every((x) => typeof x === 'string' && x.length > 0));
  if (!ok) {
    problems.push(`${at}/implications: must map each scope to a list of non-empty scopes`);
    return undefined;
  }
  return v as ImplicationMap;
}

export function parseScopeConfig(raw: unknown, at: string, problems: string[]): ScopeConfig {
  const o = objectAt(raw, at, problems);
  unknownFields(o, KNOWN, at, problems);
  const d = SCOPE_DEFAULTS;
  const sec = (key: string, dflt: number, min: number) => intField(o, key, at, dflt / 1000, min, 10 * 366 * DAY_SEC, problems) * 1000;
  return {
    enabled: boolField(o, 'enabled', at, d.enabled, problems),
    intervalMs: sec('interval_sec', d.intervalMs, 1),
    windowMs: sec('window_sec', d.windowMs, 1),
    currentMs: sec('current_sec', d.currentMs, 1),
    levels: stringsField(o, 'levels', at, d.levels, problems, SCOPE_LEVELS) as ScopeLevel[],
    alertBelowShare: numberField(o, 'alert_below_share', at, d.alertBelowShare, 0, 1, problems),
    settleMs: intField(o, 'settle_sec', at, d.settleMs / 1000, 0, 3600, problems) * 1000,
    implications: implicationsField(o, at, problems),
  };
}
