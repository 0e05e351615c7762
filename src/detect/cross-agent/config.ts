/**
 * The `cross_agent` section of the detection configuration (schemas/alerts.md,
 * detector 4).
 *
 * ```yaml
 * cross_agent:
 *   enabled: true
 *   interval_sec: 15           # how often the store is evaluated
 *   stream: false              # true: also judge the resource rules in memory on each batch (alerts within the batch)
 *   many_agents:               # one resource, many distinct agents or chains, in one window
 *     window_sec: 300
 *     min_agents: 5
 *     min_chains: 20           # 0: chains not counted
 *     severity: medium
 *     ignore_resources: []     # exact, or a trailing-* prefix ("arn:aws:s3:::shared-*")
 *   cross_task:                # one resource, tasks of different root humans, in one window
 *     window_sec: 600
 *     min_humans: 2
 *     severity: high
 *     ignore_resources: []
 *   rate_spike:                # an agent far above its own usual rate
 *     window_sec: 300
 *     baseline_sec: 604800
 *     factor: 5
 *     floor: 100
 *     min_history: 12
 *     severity: medium
 * ```
 */
import type { Severity } from '../alert.js';
import { boolField, intField, numberField, objectAt, severityField, stringsField, unknownFields, type Fields } from '../config-fields.js';

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
  /** The resource rules also in memory on each batch; false: from the store only, within one interval. */
  stream: boolean;
  manyAgents: ManyAgentsConfig;
  crossTask: CrossTaskConfig;
  rateSpike: RateSpikeConfig;
}

export const CROSS_AGENT_DEFAULTS: Readonly<CrossAgentConfig> = Object.freeze<CrossAgentConfig>({
  enabled: true,
  intervalMs: 15_000,
  // Off by default: in memory it costs about 4 µs per action with a new
  // resource (a sixth of the processing stage's cost per span, measured by
  // bench/detection-cost.ts), and on the scale path each processor sees only
  // its partitions' share of a resource anyway; the store evaluation, every
  // interval_sec, is the authority. On: resource alerts within the batch.
  stream: false,
  manyAgents: { enabled: true, windowMs: 300_000, minAgents: 5, minChains: 20, severity: 'medium', ignoreResources: [] },
  crossTask: { enabled: true, windowMs: 600_000, minHumans: 2, severity: 'high', ignoreResources: [] },
  rateSpike: { enabled: true, windowMs: 300_000, baselineMs: 7 * 86_400_000, factor: 5, floor: 100, minHistory: 12, severity: 'medium' },
});

const MAX_COUNT = 1_000_000;
const MAX_SEC = 366 * 86_400;

function resourceRule(o: Fields, at: string, d: ResourceRuleConfig, on: boolean, problems: string[]): ResourceRuleConfig {
  return {
    enabled: on && boolField(o, 'enabled', at, d.enabled, problems),
    windowMs: intField(o, 'window_sec', at, d.windowMs / 1000, 1, MAX_SEC, problems) * 1000,
    severity: severityField(o, 'severity', at, d.severity, problems),
    ignoreResources: stringsField(o, 'ignore_resources', at, d.ignoreResources, problems),
  };
}

const RESOURCE_KEYS = ['enabled', 'window_sec', 'severity', 'ignore_resources'];

export function parseCrossAgentConfig(raw: unknown, at: string, problems: string[]): CrossAgentConfig {
  const o = objectAt(raw, at, problems);
  unknownFields(o, ['enabled', 'interval_sec', 'stream', 'many_agents', 'cross_task', 'rate_spike'], at, problems);
  const d = CROSS_AGENT_DEFAULTS;
  const on = boolField(o, 'enabled', at, d.enabled, problems);
  const [maAt, ctAt, rsAt] = [`${at}/many_agents`, `${at}/cross_task`, `${at}/rate_spike`];
  const ma = objectAt(o.many_agents, maAt, problems);
  const ct = objectAt(o.cross_task, ctAt, problems);
  const rs = objectAt(o.rate_spike, rsAt, problems);
  unknownFields(ma, [...RESOURCE_KEYS, 'min_agents', 'min_chains'], maAt, problems);
  unknownFields(ct, [...RESOURCE_KEYS, 'min_humans'], ctAt, problems);
  unknownFields(rs, ['enabled', 'window_sec', 'baseline_sec', 'factor', 'floor', 'min_history', 'severity'], rsAt, problems);
  const rateSpike: RateSpikeConfig = {
    enabled: on && boolField(rs, 'enabled', rsAt, d.rateSpike.enabled, problems),
    windowMs: intField(rs, 'window_sec', rsAt, d.rateSpike.windowMs / 1000, 1, MAX_SEC, problems) * 1000,
    baselineMs: intField(rs, 'baseline_sec', rsAt, d.rateSpike.baselineMs / 1000, 1, MAX_SEC, problems) * 1000,
    factor: numberField(rs, 'factor', rsAt, d.rateSpike.factor, 1, 1000, problems),
    floor: intField(rs, 'floor', rsAt, d.rateSpike.floor, 1, MAX_COUNT, problems),
    minHistory: intField(rs, 'min_history', rsAt, d.rateSpike.minHistory, 1, 100_000, problems),
    severity: severityField(rs, 'severity', rsAt, d.rateSpike.severity, problems),
  };
  if (rateSpike.baselineMs < rateSpike.windowMs * rateSpike.minHistory) {
    problems.push(`${rsAt}/baseline_sec: ${rateSpike.baselineMs / 1000} s holds fewer than min_history (${rateSpike.minHistory}) windows of ${rateSpike.windowMs / 1000} s: no agent could ever be judged`);
  }
  return {
    enabled: on,
    intervalMs: intField(o, 'interval_sec', at, d.intervalMs / 1000, 1, 3600, problems) * 1000,
    stream: boolField(o, 'stream', at, d.stream, problems),
    manyAgents: {
      ...resourceRule(ma, maAt, d.manyAgents, on, problems),
      minAgents: intField(ma, 'min_agents', maAt, d.manyAgents.minAgents, 2, MAX_COUNT, problems),
      minChains: intField(ma, 'min_chains', maAt, d.manyAgents.minChains, 0, MAX_COUNT, problems),
    },
    crossTask: {
      ...resourceRule(ct, ctAt, d.crossTask, on, problems),
      minHumans: intField(ct, 'min_humans', ctAt, d.crossTask.minHumans, 2, MAX_COUNT, problems),
    },
    rateSpike,
  };
}
