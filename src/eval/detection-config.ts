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

/** Sections by name (detection config keys, schemas/alerts.md); durations in seconds. */
export function evalDetectionSections(o: ScenarioOptions): Record<string, unknown> {
  const day = DAY / 1000;
  const learning_sec = o.learningDays * day;
  const forget_after_sec = 2 * o.days * day;
  const step = o.batchMs / 1000;
  const window = Math.max(1, o.learningDays - 1) * day;
  return {
    paths: { learning_sec, forget_after_sec },
    depth: { learning_sec, forget_after_sec, max: o.depthBound },
    // Grants stand from the first day; judged once the window fits behind the clock.
    scope: { interval_sec: 6 * 3600, window_sec: window, current_sec: 2 * day },
    cross_agent: {
      interval_sec: Math.min(3600, step),
      many_agents: { window_sec: 900, min_agents: 5, min_chains: 0 },
      cross_task: { window_sec: 1800 },
      // Hourly windows: an instance is busy a few hours a day, so 5-minute windows would leave it too little history.
      rate_spike: { window_sec: 3600, factor: 5, floor: 50 },
    },
    integrity: {
      burst: { window_sec: Math.max(600, step), min_failures: 8, interval_sec: Math.min(3600, step) },
      link_reuse: { lookback_sec: day, interval_sec: 3600 },
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
