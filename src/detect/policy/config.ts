/** The `policy` section of the detection configuration (schemas/alerts.md, detector 6). */
import type { Severity } from '../alert.js';
import { boolField, objectAt, severityField } from '../config-fields.js';

export interface PolicyViolationConfig {
  enabled: boolean;
  /** Severity of a violation of a rule not listed in `rules`. */
  severity: Severity;
  /** Severity per rule id. */
  rules: ReadonlyMap<string, Severity>;
}

const RULE_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export function parsePolicyViolationConfig(raw: unknown, at: string, problems: string[]): PolicyViolationConfig {
  const o = objectAt(raw, at, problems);
  const rulesRaw = objectAt(o.rules, `${at}/rules`, problems);
  const rules = new Map<string, Severity>();
  for (const id of Object.keys(rulesRaw)) {
    if (!RULE_ID.test(id)) {
      problems.push(`${at}/rules: ${JSON.stringify(id.slice(0, 80))} is not a rule id`);
      continue;
    }
    const s = severityField(rulesRaw, id, `${at}/rules`, undefined, problems);
    if (s !== undefined) rules.set(id, s);
  }
  return {
    enabled: boolField(o, 'enabled', at, true, problems),
    severity: severityField(o, 'severity', at, 'medium', problems),
    rules,
  };
}
