/** The `integrity` section of the detection configuration (schemas/alerts.md, detector 5). */
import type { Severity } from '../alert.js';
import { boolField, intField, objectAt, severityField } from '../config-fields.js';

export interface IntegrityConfig {
  burst: { enabled: boolean; windowSec: number; minFailures: number; intervalSec: number; severity: Severity | undefined };
  notDelegatee: { enabled: boolean; severity: Severity | undefined };
  linkReuse: { enabled: boolean; lookbackSec: number; intervalSec: number; severity: Severity };
}

export function parseIntegrityConfig(raw: unknown, at: string, problems: string[]): IntegrityConfig {
  const o = objectAt(raw, at, problems);
  const on = boolField(o, 'enabled', at, true, problems);
  const b = objectAt(o.burst, `${at}/burst`, problems);
  const n = objectAt(o.not_delegatee, `${at}/not_delegatee`, problems);
  const l = objectAt(o.link_reuse, `${at}/link_reuse`, problems);
  return {
    burst: {
      enabled: on && boolField(b, 'enabled', `${at}/burst`, true, problems),
      windowSec: intField(b, 'window_sec', `${at}/burst`, 300, 10, 86_400, problems),
      minFailures: intField(b, 'min_failures', `${at}/burst`, 10, 2, 1_000_000, problems),
      intervalSec: intField(b, 'interval_sec', `${at}/burst`, 30, 1, 3600, problems),
      severity: severityField(b, 'severity', `${at}/burst`, undefined, problems),
    },
    notDelegatee: {
      enabled: on && boolField(n, 'enabled', `${at}/not_delegatee`, true, problems),
      severity: severityField(n, 'severity', `${at}/not_delegatee`, undefined, problems),
    },
    linkReuse: {
      enabled: on && boolField(l, 'enabled', `${at}/link_reuse`, true, problems),
      lookbackSec: intField(l, 'lookback_sec', `${at}/link_reuse`, 7 * 86_400, 60, 366 * 86_400, problems),
      intervalSec: intField(l, 'interval_sec', `${at}/link_reuse`, 60, 1, 3600, problems),
      severity: severityField(l, 'severity', `${at}/link_reuse`, 'high', problems),
    },
  };
}
