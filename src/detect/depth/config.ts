/**
 * The `depth` section of the detection config (schemas/alerts.md, section
 * `depth`): chains deeper than usual for their root agent type, or over a bound.
 */
import type { Severity } from '../alert.js';
import { parseAgentTyping, type AgentTyping } from '../paths/agent-type.js';
import { boolField, intField, objectAt, secondsField, severityField, unknownFields } from '../config-fields.js';
import { DAY_MS } from '../paths/config.js';

export interface DepthConfig {
  enabled: boolean;
  /** chain.depth_exceeded when a verified chain has more links than this (the human's included); 0: off. */
  max: number;
  /** chain.depth_unusual when a chain is deeper than the deepest usual for its root type plus this. */
  margin: number;
  learningMs: number;
  forgetAfterMs: number;
  /** (tenant, root type) pairs remembered; past it the least recently seen are forgotten. */
  maxRootTypes: number;
  baselineLimit: number;
  agentTypes: AgentTyping;
  severity: { unusual: Severity; exceeded: Severity };
}

/** The verifier refuses chains over 32 links (chain.too_deep), so a larger bound could never fire. */
export const MAX_CHAIN_LINKS = 32;

export function defaultDepthConfig(): DepthConfig {
  return {
    enabled: true,
    // The seed suggests enforcing 3 in policy; detection's bound is a backstop above it.
    max: 5,
    margin: 0,
    learningMs: 7 * DAY_MS,
    forgetAfterMs: 30 * DAY_MS,
    maxRootTypes: 50_000,
    baselineLimit: 100_000,
    agentTypes: { patterns: [] },
    // schemas/alerts.md §7: unusual but allowed is low; a configured bound broken is a rule broken, medium.
    severity: { unusual: 'low', exceeded: 'medium' },
  };
}

const FIELDS = ['enabled', 'max', 'margin', 'learning_sec', 'forget_after_sec', 'max_root_types', 'baseline_limit', 'agent_types', 'severity'];

export function parseDepthConfig(raw: unknown, at: string, problems: string[]): DepthConfig {
  const d = defaultDepthConfig();
  const f = objectAt(raw, at, problems);
  unknownFields(f, FIELDS, at, problems);
  const sat = `${at}/severity`;
  const sev = objectAt(f.severity, sat, problems);
  unknownFields(sev, ['unusual', 'exceeded'], sat, problems);
  const config: DepthConfig = {
    enabled: boolField(f, 'enabled', at, d.enabled, problems),
    max: intField(f, 'max', at, d.max, 0, MAX_CHAIN_LINKS, problems),
    margin: intField(f, 'margin', at, d.margin, 0, MAX_CHAIN_LINKS, problems),
    learningMs: secondsField(f, 'learning_sec', at, d.learningMs, 0, problems),
    forgetAfterMs: secondsField(f, 'forget_after_sec', at, d.forgetAfterMs, 60, problems),
    maxRootTypes: intField(f, 'max_root_types', at, d.maxRootTypes, 10, 10_000_000, problems),
    baselineLimit: intField(f, 'baseline_limit', at, d.baselineLimit, 0, 10_000_000, problems),
    agentTypes: parseAgentTyping(f.agent_types, `${at}/agent_types`, problems),
    severity: {
      unusual: severityField(sev, 'unusual', sat, d.severity.unusual, problems),
      exceeded: severityField(sev, 'exceeded', sat, d.severity.exceeded, problems),
    },
  };
  return config;
}
