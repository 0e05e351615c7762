/**
 * The `cross_agent` section of the detection config.
 *
 * ```yaml
 * cross_agent:
 *   enabled: true
 *   interval: 15s            # how often the store is evaluated
 *   many_agents:             # one resource, many distinct agents or chains, in one window
 *     window: 5m
 *     min_agents: 5
 *     min_chains: 20
 *     severity: medium
 *     ignore_resources: []   # exact, or a trailing-* prefix ("arn:aws:s3:::shared-*")
 *   cross_task:              # one resource, tasks of different root humans, in one window
 *     window: 10m
 *     min_humans: 2
 *     severity: high
 *     ignore_resources: []
 *   rate_spike:              # an agent far above its own usual rate
 *     window: 5m
 *     baseline: 7d
 *     factor: 5
 *     floor: 100
 *     min_history: 12
 *     severity: medium
 * ```
 */
import type { Severity } from '../alert.js';
import { readBoolean, readDurationMs, readNumber, readSection, readSeverity, readStrings } from '../section-values.js';

export interface ResourceRuleConfig {
  enabled: boolean;
  windowMs: number;
  severity: Severity;
  ignoreResources: string[];
}

export interface ManyAgentsConfig extends ResourceRuleConfig {
  minAgents: number;
  /** 0: chains are not counted. */
  minChains: number;
}

export interface CrossTaskConfig extends ResourceRuleConfig {
  minHumans: number;
}

export interface RateSpikeConfig {
  enabled: boolean;
  windowMs: number;
  baselineMs: number;
  factor: number;
  floor: number;
  minHistory: number;
  severity: Severity;
}

export interface CrossAgentConfig {
  enabled: boolean;
  intervalMs: number;
  manyAgents: ManyAgentsConfig;
  crossTask: CrossTaskConfig;
  rateSpike: RateSpikeConfig;
}

export const CROSS_AGENT_DEFAULTS: Readonly<CrossAgentConfig> = Object.freeze<CrossAgentConfig>({
  enabled: true,
  intervalMs: 15_000,
  manyAgents: { enabled: true, windowMs: 300_000, minAgents: 5, minChains: 20, severity: 'medium', ignoreResources: [] },
  crossTask: { enabled: true, windowMs: 600_000, minHumans: 2, severity: 'high', ignoreResources: [] },
  rateSpike: { enabled: true, windowMs: 300_000, baselineMs: 7 * 86_400_000, factor: 5, floor: 100, minHistory: 12, severity: 'medium' },
});

const MAX_COUNT = 1_000_000;

function resourceRule(f: Record<string, unknown>, at: string, d: ResourceRuleConfig, problems: string[]): ResourceRuleConfig {
  return {
    enabled: readBoolean(f.enabled, `${at}.enabled`, d.enabled, problems),
    windowMs: readDurationMs(f.window, `${at}.window`, d.windowMs, problems, 1000),
    severity: readSeverity(f.severity, `${at}.severity`, d.severity, problems),
    ignoreResources: readStrings(f.ignore_resources, `${at}.ignore_resources`, d.ignoreResources, problems),
  };
}

const RESOURCE_KEYS = ['enabled', 'window', 'severity', 'ignore_resources'];

export function parseCrossAgentConfig(raw: unknown, at: string, problems: string[]): CrossAgentConfig {
  const f = readSection(raw, at, ['enabled', 'interval', 'many_agents', 'cross_task', 'rate_spike'], problems);
  const d = CROSS_AGENT_DEFAULTS;
  const ma = readSection(f.many_agents, `${at}.many_agents`, [...RESOURCE_KEYS, 'min_agents', 'min_chains'], problems);
  const ct = readSection(f.cross_task, `${at}.cross_task`, [...RESOURCE_KEYS, 'min_humans'], problems);
  const rs = readSection(f.rate_spike, `${at}.rate_spike`, ['enabled', 'window', 'baseline', 'factor', 'floor', 'min_history', 'severity'], problems);
  const rsAt = `${at}.rate_spike`;
  const rateSpike: RateSpikeConfig = {
    enabled: readBoolean(rs.enabled, `${rsAt}.enabled`, d.rateSpike.enabled, problems),
    windowMs: readDurationMs(rs.window, `${rsAt}.window`, d.rateSpike.windowMs, problems, 1000),
    baselineMs: readDurationMs(rs.baseline, `${rsAt}.baseline`, d.rateSpike.baselineMs, problems, 1000),
    factor: readNumber(rs.factor, `${rsAt}.factor`, d.rateSpike.factor, 1, 1000, problems),
    floor: readNumber(rs.floor, `${rsAt}.floor`, d.rateSpike.floor, 1, MAX_COUNT, problems, true),
    minHistory: readNumber(rs.min_history, `${rsAt}.min_history`, d.rateSpike.minHistory, 1, 100_000, problems, true),
    severity: readSeverity(rs.severity, `${rsAt}.severity`, d.rateSpike.severity, problems),
  };
  if (rateSpike.baselineMs < rateSpike.windowMs * rateSpike.minHistory) {
    problems.push(`${rsAt}.baseline: ${rateSpike.baselineMs} ms holds fewer than min_history (${rateSpike.minHistory}) windows of ${rateSpike.windowMs} ms: no agent could ever be judged`);
  }
  return {
    enabled: readBoolean(f.enabled, `${at}.enabled`, d.enabled, problems),
    intervalMs: readDurationMs(f.interval, `${at}.interval`, d.intervalMs, problems, 1000),
    manyAgents: {
      ...resourceRule(ma, `${at}.many_agents`, d.manyAgents, problems),
      minAgents: readNumber(ma.min_agents, `${at}.many_agents.min_agents`, d.manyAgents.minAgents, 2, MAX_COUNT, problems, true),
      minChains: readNumber(ma.min_chains, `${at}.many_agents.min_chains`, d.manyAgents.minChains, 0, MAX_COUNT, problems, true),
    },
    crossTask: {
      ...resourceRule(ct, `${at}.cross_task`, d.crossTask, problems),
      minHumans: readNumber(ct.min_humans, `${at}.cross_task.min_humans`, d.crossTask.minHumans, 2, MAX_COUNT, problems, true),
    },
    rateSpike,
  };
}
