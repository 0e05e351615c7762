/**
 * The `response` section of the detection config: the automated response
 * (off by default). On a firing alert of at least `min_severity` whose kind
 * has an action, revoke the offending link or agent; `dry_run` only audits
 * what it would have done.
 */
import { ALERT_KINDS, SEVERITIES, type AlertKind, type Severity } from '../../detect/alert.js';
import { SectionReader } from '../delivery/config-fields.js';

export const RESPONSE_TARGETS = ['link', 'agent'] as const;
export type ResponseTarget = (typeof RESPONSE_TARGETS)[number];

export interface ResponseConfig {
  enabled: boolean;
  dryRun: boolean;
  minSeverity: Severity;
  /** What to revoke, by alert kind; a kind not listed is never acted on. */
  actions: Partial<Record<AlertKind, ResponseTarget>>;
}

export const DEFAULT_RESPONSE: ResponseConfig = {
  enabled: false,
  dryRun: false,
  minSeverity: 'high',
  // The two kinds whose evidence names one culprit: a link replayed across tasks, an agent presenting another's chain.
  actions: { 'integrity.link_reuse': 'link', 'integrity.not_delegatee': 'agent' },
};

export function parseResponseConfig(raw: unknown, at: string, problems: string[]): ResponseConfig {
  const r = SectionReader.of(raw, at, problems);
  r.only(['enabled', 'dry_run', 'min_severity', 'actions']);
  let actions = DEFAULT_RESPONSE.actions;
  if (r.has('actions')) {
    const a = SectionReader.of(r.raw('actions'), `${at}/actions`, problems);
    a.only(ALERT_KINDS);
    actions = {};
    for (const kind of ALERT_KINDS) if (a.has(kind)) actions[kind] = a.oneOf(kind, RESPONSE_TARGETS, 'link');
  }
  return {
    enabled: r.bool('enabled', DEFAULT_RESPONSE.enabled),
    dryRun: r.bool('dry_run', DEFAULT_RESPONSE.dryRun),
    minSeverity: r.oneOf('min_severity', SEVERITIES, DEFAULT_RESPONSE.minSeverity),
    actions,
  };
}
