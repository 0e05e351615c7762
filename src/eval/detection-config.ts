/**
 * The detection configuration the evaluation runs with, derived from the
 * scenario's options so the two cannot drift: learning as long as the
 * scenario's learning period, nothing forgotten within the scenario, the
 * depth bound the labels assume, a scope window the standing grants span,
 * and windowed intervals that are multiples of the replay's step. Every
 * other value is the detector's default. Pure.
 */
import { stringify } from 'yaml';
import type { ScenarioOptions } from './plan.js';

const DAY = 86_400_000;

const minutes = (ms: number) => `${Math.round(ms / 60_000)}m`;

/** Sections by name (detection config keys, schemas/alerts.md). */
export function evalDetectionSections(o: ScenarioOptions): Record<string, unknown> {
  const learning = `${o.learningDays}d`;
  const forget = `${o.days * 2}d`;
  const step = minutes(o.batchMs);
  return {
    paths: { learning, forget_after: forget },
    depth: { learning, forget_after: forget, max: o.depthBound },
    // Grants stand from the first day; judged once the window fits behind the clock.
    scope: { interval: '6h', window: `${Math.max(1, o.learningDays - 1)}d`, current: '2d' },
    cross_agent: {
      interval: step,
      many_agents: { window: '15m', min_agents: 5, min_chains: 0 },
      cross_task: { window: '30m' },
      rate_spike: { window: '1h', baseline: `${Math.max(1, o.learningDays - 1)}d`, factor: 5, floor: 50, min_history: 12 },
    },
    integrity: {
      burst: { window_sec: Math.max(600, o.batchMs / 1000), min_failures: 8, interval_sec: Math.min(3600, o.batchMs / 1000) },
      link_reuse: { lookback_sec: (2 * DAY) / 1000, interval_sec: 3600 },
    },
    policy: {},
  };
}

/** The YAML file, keeping only the sections this build registers (an unregistered section is a configuration error). */
export function evalDetectionYaml(o: ScenarioOptions, registered: readonly string[]): string {
  const sections = evalDetectionSections(o);
  const kept: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(sections)) if (registered.includes(name)) kept[name] = value;
  return `# The detection evaluation's configuration (generated from the scenario's options).\n${stringify(kept)}`;
}
