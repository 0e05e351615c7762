/**
 * The `paths` section of the detection config (schemas/alerts.md, section
 * `paths`): first-seen delegation edges and path shapes.
 */
import type { Severity } from '../alert.js';
import { parseAgentTyping, type AgentTyping } from './agent-type.js';
import { boolField, intField, objectAt, optionalStringField, secondsField, severityField, unknownFields, type Fields } from '../config-fields.js';

export interface PathsConfig {
  enabled: boolean;
  /** Per tenant, from its first verified chain: nothing alerts while learning. */
  learningMs: number;
  /** An edge or path not seen for this long is new again. */
  forgetAfterMs: number;
  /** YAML allowlist file (src/detect/paths/allowlist.ts); undefined: none. */
  allowlistFile: string | undefined;
  /** Values remembered, all kinds together (edges by id, by type, crossings, paths); past it the least recently seen are forgotten. */
  maxKeys: number;
  /** Distinct chains read from the store at start (newest first). */
  baselineLimit: number;
  agentTypes: AgentTyping;
  /** Kinds raised; the others are still learned (so turning one on later raises no storm). */
  kinds: ReadonlySet<PathKind>;
  severity: { newEdge: Severity; newEdgeType: Severity; newDomainCrossing: Severity; newPath: Severity };
}

export const DAY_MS = 86_400_000;

export const PATH_KINDS = ['delegation.new_edge', 'delegation.new_edge_type', 'delegation.new_domain_crossing', 'delegation.new_path'] as const;
export type PathKind = (typeof PATH_KINDS)[number];

export function defaultPathsConfig(): PathsConfig {
  return {
    enabled: true,
    // Datadog's new-value rules offer 0–30 days of learning (7 is the middle);
    // Elastic warns that short history windows mean many false positives.
    learningMs: 7 * DAY_MS,
    forgetAfterMs: 30 * DAY_MS,
    allowlistFile: undefined,
    maxKeys: 200_000,
    baselineLimit: 100_000,
    agentTypes: { patterns: [] },
    kinds: new Set(PATH_KINDS),
    // schemas/alerts.md §7: unusual but allowed is low; a trust boundary crossed for the first time, medium.
    severity: { newEdge: 'low', newEdgeType: 'low', newDomainCrossing: 'medium', newPath: 'low' },
  };
}

const FIELDS = ['enabled', 'learning_sec', 'forget_after_sec', 'allowlist', 'max_keys', 'baseline_limit', 'agent_types', 'kinds', 'severity'];
const SEVERITY_FIELDS = ['new_edge', 'new_edge_type', 'new_domain_crossing', 'new_path'];

export function parsePathsConfig(raw: unknown, at: string, problems: string[]): PathsConfig {
  const d = defaultPathsConfig();
  const f = objectAt(raw, at, problems);
  unknownFields(f, FIELDS, at, problems);
  const sat = `${at}/severity`;
  const sev = objectAt(f.severity, sat, problems);
  unknownFields(sev, SEVERITY_FIELDS, sat, problems);
  const config: PathsConfig = {
    enabled: boolField(f, 'enabled', at, d.enabled, problems),
    learningMs: secondsField(f, 'learning_sec', at, d.learningMs, 0, problems),
    forgetAfterMs: secondsField(f, 'forget_after_sec', at, d.forgetAfterMs, 60, problems),
    allowlistFile: optionalStringField(f, 'allowlist', at, problems),
    maxKeys: intField(f, 'max_keys', at, d.maxKeys, 100, 10_000_000, problems),
    baselineLimit: intField(f, 'baseline_limit', at, d.baselineLimit, 0, 10_000_000, problems),
    agentTypes: parseAgentTyping(f.agent_types, `${at}/agent_types`, problems),
    kinds: kindsField(f, at, d.kinds, problems),
    severity: {
      newEdge: severityField(sev, 'new_edge', sat, d.severity.newEdge, problems),
      newEdgeType: severityField(sev, 'new_edge_type', sat, d.severity.newEdgeType, problems),
      newDomainCrossing: severityField(sev, 'new_domain_crossing', sat, d.severity.newDomainCrossing, problems),
      newPath: severityField(sev, 'new_path', sat, d.severity.newPath, problems),
    },
  };
  return config;
}

/** `kinds`: the kinds to raise, e.g. without `delegation.new_edge` where every agent instance has its own ID. */
function kindsField(f: Fields, at: string, fallback: ReadonlySet<PathKind>, problems: string[]): ReadonlySet<PathKind> {
  const v = f.kinds;
  if (v === undefined) return fallback;
  if (!Array.isArray(v) || !v.every((k) => (PATH_KINDS as readonly unknown[]).includes(k))) {
    problems.push(`${at}/kinds: must be a list of ${PATH_KINDS.join(', ')}`);
    return fallback;
  }
  return new Set(v as PathKind[]);
}
