/**
 * Detector 4, cross-agent anomalies (schemas/alerts.md, "cross_agent").
 *
 * Two halves raising the same alerts (same ids, same triggers):
 *  - the windowed evaluation is the authority: every `interval` it asks the
 *    store for each rule over the windows that ended recently. On the scale
 *    path the Collector partitions Kafka by trace ID, so the actions on one
 *    resource, or of one agent, are spread over every processor of the
 *    consumer group; only the store sees them all. Its alerts arrive within
 *    one interval. The rate spike is windowed only: its baseline is the
 *    agent's history, which lives in the store.
 *  - the streaming half judges the resource rules on each batch, in memory,
 *    so a processor that sees enough by itself (the embedded deployment sees
 *    everything) raises the alert with the batch, well under a second. Its
 *    state is small (distinct agents, chains, humans per resource for the
 *    current and previous window, bounded) and is seeded from the store at
 *    start.
 */
import type { AlertSignal } from '../alert.js';
import type { DetectionInput, DetectorContext, DetectorOutput, StreamingDetector, WindowedDetector } from '../detector.js';
import type { CrossAgentConfig } from './config.js';
import { crossTaskSignal, ignored, manyAgentsSignal, meetsCrossTask, meetsManyAgents, tenantOf, tsMs, windowStart, type ResourceTouch } from './resource-rules.js';
import { rateSpikeSignal } from './rate-rules.js';
import { ResourceWindows, resourceKey, touchOf, type WindowLimits } from './resource-windows.js';
import { readBaselines, readBusyAgents, readResourceTouches } from './store.js';

const OFF = 4_294_967_295; // a UInt32 threshold no window reaches

/** Windows starting in [from, to]: the current one and those that ended within the last interval plus one window of late data. */
function judgedWindows(nowMs: number, windowMs: number, intervalMs: number): { fromMs: number; toMs: number } {
  return { fromMs: windowStart(nowMs - intervalMs - 2 * windowMs, windowMs), toMs: windowStart(nowMs, windowMs) };
}

export function createCrossAgentDetector(cfg: CrossAgentConfig): WindowedDetector {
  const { manyAgents, crossTask, rateSpike } = cfg;
  return {
    name: 'cross_agent',
    intervalMs: cfg.intervalMs,
    async evaluate(ctx: DetectorContext, nowMs: number): Promise<DetectorOutput> {
      const signals: AlertSignal[] = [];
      if (manyAgents.enabled) {
        const touches = await readResourceTouches(ctx, { windowMs: manyAgents.windowMs, ...judgedWindows(nowMs, manyAgents.windowMs, cfg.intervalMs), minAgents: manyAgents.minAgents, minChains: manyAgents.minChains, minHumans: OFF });
        for (const t of touches) pushDefined(signals, manyAgentsSignal(t, manyAgents));
      }
      if (crossTask.enabled) {
        const touches = await readResourceTouches(ctx, { windowMs: crossTask.windowMs, ...judgedWindows(nowMs, crossTask.windowMs, cfg.intervalMs), minAgents: OFF, minChains: 0, minHumans: crossTask.minHumans });
        for (const t of touches) pushDefined(signals, crossTaskSignal(t, crossTask));
      }
      if (rateSpike.enabled) {
        const range = judgedWindows(nowMs, rateSpike.windowMs, cfg.intervalMs);
        const busy = await readBusyAgents(ctx, { windowMs: rateSpike.windowMs, ...range, floor: rateSpike.floor });
        // Baselines only for agents over the floor: cost follows the busy agents, not the fleet.
        const baselines = await readBaselines(ctx, { agents: [...new Set(busy.map((b) => b.agent))], windowMs: rateSpike.windowMs, fromMs: range.fromMs - rateSpike.baselineMs, toMs: range.fromMs });
        for (const b of busy) pushDefined(signals, rateSpikeSignal(b, baselines.get(b.agent), rateSpike));
      }
      return { signals };
    },
  };
}

function pushDefined(out: AlertSignal[], s: AlertSignal | undefined): void {
  if (s !== undefined) out.push(s);
}

/** The resource rules on each batch, in memory. */
export function createCrossAgentStream(cfg: CrossAgentConfig, limits?: WindowLimits): StreamingDetector {
  const { manyAgents, crossTask } = cfg;
  const many = new ResourceWindows(manyAgents.windowMs, ['agents', 'chains'], limits);
  const cross = new ResourceWindows(crossTask.windowMs, ['humans'], limits);
  const forget = (nowMs: number) => {
    // The current and the previous window stay; older ones are the store evaluation's.
    many.forgetBefore(nowMs - manyAgents.windowMs);
    cross.forgetBefore(nowMs - crossTask.windowMs);
  };
  return {
    name: 'cross_agent.stream',
    async start(ctx: DetectorContext, nowMs: number): Promise<void> {
      const seed = async (w: ResourceWindows) => {
        const { fromMs, toMs } = { fromMs: windowStart(nowMs - w.windowMs, w.windowMs), toMs: windowStart(nowMs, w.windowMs) };
        const touches: ResourceTouch[] = await readResourceTouches(ctx, { windowMs: w.windowMs, fromMs, toMs, minAgents: 2, minChains: 2, minHumans: 2 });
        for (const t of touches) w.seed(t);
      };
      if (manyAgents.enabled) await seed(many);
      if (crossTask.enabled) await seed(cross);
    },
    observe(input: DetectionInput): DetectorOutput {
      const signals: AlertSignal[] = [];
      if (!manyAgents.enabled && !crossTask.enabled) return { signals };
      forget(input.nowMs);
      const oldest = input.nowMs - 2 * Math.max(manyAgents.windowMs, crossTask.windowMs);
      for (const a of input.actions) {
        if (a.verdict !== 'verified' || a.resource === '') continue;
        const atMs = tsMs(a.ts);
        if (atMs < oldest) continue;
        const tenant = tenantOf(a.agent_id);
        const touch = { key: resourceKey(tenant, a.resource), tenant, resource: a.resource, atMs, agent: a.agent_id, chain: a.chain_hash, human: a.root_human, task: a.task_id, spanId: a.span_id, traceId: a.trace_id };
        if (manyAgents.enabled && !ignored(a.resource, manyAgents.ignoreResources)) {
          const e = many.add(touch);
          // Raised once per window here (settled); another processor or the store evaluation raises the same trigger.
          if (e && !e.settled && meetsManyAgents(e.agents.size, e.chains.size, manyAgents)) {
            e.settled = true;
            pushDefined(signals, manyAgentsSignal(touchOf(e), manyAgents));
          }
        }
        if (crossTask.enabled && !ignored(a.resource, crossTask.ignoreResources)) {
          const e = cross.add(touch);
          if (e && !e.settled && meetsCrossTask(e.humans.size, crossTask)) {
            e.settled = true;
            pushDefined(signals, crossTaskSignal(touchOf(e), crossTask));
          }
        }
      }
      return { signals };
    },
  };
}
