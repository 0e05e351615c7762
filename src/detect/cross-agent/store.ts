/**
 * Store reads for the cross-agent rules: per resource and window, and per
 * agent and window, over verified actions. Parameters only; the counts are
 * distinct (agents, chains, spans), so a redelivered span counted twice by
 * the table before a merge changes nothing.
 */
import type { DetectorContext } from '../detector.js';
import type { ResourceTouch } from './resource-rules.js';
import { EVIDENCE_LIMIT } from './resource-rules.js';
import type { AgentBaseline, AgentWindowCount } from './rate-rules.js';

const TENANT = `extract(agent_id, '^spiffe://([^/]+)/')`;

interface TouchRow {
  tenant: string;
  resource: string;
  window_start: string;
  agent_count: string;
  chain_count: string;
  human_count: string;
  agents: string[];
  chains: string[];
  humans: string[];
  tasks: string[];
  span_ids: string[];
  trace_ids: string[];
  last_ms: string;
}

/**
 * Resources whose windows (tumbling, `windowMs`) starting in [fromMs, toMs]
 * reached `minAgents` distinct agents, `minChains` chains (0: off) or
 * `minHumans` root humans.
 */
export async function readResourceTouches(
  ctx: DetectorContext,
  q: { windowMs: number; fromMs: number; toMs: number; minAgents: number; minChains: number; minHumans: number },
): Promise<ResourceTouch[]> {
  const rs = await ctx.client.query({
    query: `
      SELECT ${TENANT} AS tenant, resource,
             intDiv(toUnixTimestamp64Milli(ts), {w:Int64}) * {w:Int64} AS window_start,
             uniqExact(agent_id) AS agent_count,
             uniqExactIf(chain_hash, chain_hash != '') AS chain_count,
             uniqExactIf(root_human, root_human != '') AS human_count,
             groupUniqArray({limit:UInt32})(agent_id) AS agents,
             groupUniqArrayIf({limit:UInt32})(chain_hash, chain_hash != '') AS chains,
             groupUniqArrayIf({limit:UInt32})(root_human, root_human != '') AS humans,
             groupUniqArray({limit:UInt32})(task_id) AS tasks,
             groupUniqArray({limit:UInt32})(span_id) AS span_ids,
             groupUniqArray(2)(trace_id) AS trace_ids,
             toUnixTimestamp64Milli(max(ts)) AS last_ms
      FROM ${ctx.database}.actions
      WHERE ts >= fromUnixTimestamp64Milli({from:Int64}) AND ts < fromUnixTimestamp64Milli({to:Int64})
        AND verdict = 'verified' AND resource != ''
      GROUP BY tenant, resource, window_start
      HAVING agent_count >= {minAgents:UInt32} OR ({minChains:UInt32} > 0 AND chain_count >= {minChains:UInt32}) OR human_count >= {minHumans:UInt32}
      ORDER BY window_start, tenant, resource`,
    query_params: {
      w: q.windowMs, from: q.fromMs, to: q.toMs + q.windowMs, limit: EVIDENCE_LIMIT,
      minAgents: q.minAgents, minChains: q.minChains, minHumans: q.minHumans,
    },
    format: 'JSONEachRow',
  });
  return (await rs.json<TouchRow>()).map((r) => ({
    tenant: r.tenant, resource: r.resource, windowStartMs: Number(r.window_start),
    agentCount: Number(r.agent_count), chainCount: Number(r.chain_count), humanCount: Number(r.human_count),
    agents: r.agents.sort(), chains: r.chains.sort(), humans: r.humans.sort(), tasks: r.tasks.sort(),
    spanIds: r.span_ids.sort(), traceIds: r.trace_ids.sort(), lastMs: Number(r.last_ms),
  }));
}

/** Agents whose windows starting in [fromMs, toMs] hold at least `floor` distinct actions. */
export async function readBusyAgents(ctx: DetectorContext, q: { windowMs: number; fromMs: number; toMs: number; floor: number }): Promise<AgentWindowCount[]> {
  const rs = await ctx.client.query({
    query: `
      SELECT agent_id, intDiv(toUnixTimestamp64Milli(ts), {w:Int64}) * {w:Int64} AS window_start,
             uniqExact(trace_id, span_id) AS n,
             toUnixTimestamp64Milli(max(ts)) AS last_ms,
             groupUniqArray({limit:UInt32})(span_id) AS span_ids
      FROM ${ctx.database}.actions
      WHERE ts >= fromUnixTimestamp64Milli({from:Int64}) AND ts < fromUnixTimestamp64Milli({to:Int64})
        AND verdict = 'verified' AND agent_id != ''
      GROUP BY agent_id, window_start
      HAVING n >= {floor:UInt64}
      ORDER BY window_start, agent_id`,
    query_params: { w: q.windowMs, from: q.fromMs, to: q.toMs + q.windowMs, floor: q.floor, limit: EVIDENCE_LIMIT },
    format: 'JSONEachRow',
  });
  return (await rs.json<{ agent_id: string; window_start: string; n: string; last_ms: string; span_ids: string[] }>()).map((r) => ({
    agent: r.agent_id, windowStartMs: Number(r.window_start), count: Number(r.n), lastMs: Number(r.last_ms), spanIds: r.span_ids,
  }));
}

/** Each agent's usual busiest rate: p95 of its per-window counts over windows it acted in, in [fromMs, toMs). */
export async function readBaselines(ctx: DetectorContext, q: { agents: string[]; windowMs: number; fromMs: number; toMs: number }): Promise<Map<string, AgentBaseline>> {
  const out = new Map<string, AgentBaseline>();
  if (q.agents.length === 0) return out;
  const rs = await ctx.client.query({
    query: `
      SELECT agent_id, quantileExact(0.95)(n) AS p95, count() AS busy
      FROM (
        SELECT agent_id, intDiv(toUnixTimestamp64Milli(ts), {w:Int64}) AS w, uniqExact(trace_id, span_id) AS n
        FROM ${ctx.database}.actions
        WHERE ts >= fromUnixTimestamp64Milli({from:Int64}) AND ts < fromUnixTimestamp64Milli({to:Int64})
          AND verdict = 'verified' AND agent_id IN {agents:Array(String)}
        GROUP BY agent_id, w
      )
      GROUP BY agent_id`,
    query_params: { w: q.windowMs, from: q.fromMs, to: q.toMs, agents: q.agents },
    format: 'JSONEachRow',
  });
  for (const r of await rs.json<{ agent_id: string; p95: string | number; busy: string }>()) out.set(r.agent_id, { p95: Number(r.p95), busyWindows: Number(r.busy) });
  return out;
}
