/**
 * One link seen in several tasks or chains (detector 5c): a jti carried by
 * several distinct links (one token id minted twice, or a forged copy), or
 * one chain presented in several tasks (a replay). Each extra task or link
 * is one trigger of the alert about that jti. The store reads find
 * candidates over a lookback; `reuseSignals` judges (pure).
 */
import type { AlertSignal, Severity } from '../alert.js';
import type { DetectorContext, DetectorOutput, WindowedDetector } from '../detector.js';
import { tenantOfAgent } from '../tenant.js';
import type { IntegrityConfig } from './config.js';

/** A link id (jti, or link hash when the jti is unknown) with where it was seen. */
export interface LinkSightings {
  jti: string;
  /** Distinct link hashes carrying this jti. */
  links: string[];
  /** Distinct tasks the link (or its chains) showed up in. */
  tasks: string[];
  /** Delegatees of the links. */
  agents: string[];
  trustDomain: string;
  lastMs: number;
}

export function reuseSignals(sightings: readonly LinkSightings[], severity: Severity): AlertSignal[] {
  const out: AlertSignal[] = [];
  for (const s of sightings) {
    if (s.links.length < 2 && s.tasks.length < 2) continue;
    const tenant = s.trustDomain || tenantOfAgent(s.agents[0] ?? '');
    const base = {
      kind: 'integrity.link_reuse' as const,
      severity,
      tenant,
      subject: `jti ${s.jti}`,
      windowStartMs: 0,
      observedAtMs: s.lastMs,
      taskId: s.tasks[0] ?? '',
      human: '',
      agents: s.agents,
      chainHash: '',
      traceId: '',
      summary: `link ${s.jti} seen in ${s.tasks.length} task(s) across ${s.links.length} distinct link(s)`,
      evidence: { spanIds: [], linkIds: s.links, facts: { jti: s.jti, tasks: s.tasks, links: s.links.length } },
    };
    // Triggers: each task and each distinct link after the first, so the count grows with every new reuse.
    if (s.tasks.length >= 2) for (const t of s.tasks) out.push({ ...base, eventKey: `task/${t}`, taskId: t });
    if (s.links.length >= 2) for (const l of s.links) out.push({ ...base, eventKey: `link/${l}` });
  }
  return out;
}

/** jtis carried by several links, or whose links belong to several tasks, first stored since `fromMs`. */
export async function jtiSightings(ctx: DetectorContext, fromMs: number): Promise<LinkSightings[]> {
  const rs = await ctx.client.query({
    query: `SELECT jti, groupUniqArray(50)(link_hash) AS links, groupUniqArray(50)(task_id) AS tasks,
                   groupUniqArray(10)(delegatee) AS agents, any(trust_domain) AS trust_domain,
                   toUnixTimestamp64Milli(max(first_seen)) AS last_ms
            FROM ${ctx.database}.delegations
            WHERE jti != '' AND jti IN (
              SELECT jti FROM ${ctx.database}.delegations WHERE jti != '' AND first_seen >= fromUnixTimestamp64Milli({from:Int64})
            )
            GROUP BY jti
            HAVING uniqExact(link_hash) > 1 OR uniqExact(task_id) > 1
            LIMIT 1000`,
    query_params: { from: Math.floor(fromMs) },
    format: 'JSONEachRow',
  });
  return (await rs.json<{ jti: string; links: string[]; tasks: string[]; agents: string[]; trust_domain: string; last_ms: string }>())
    .map((r) => ({ jti: r.jti, links: r.links.sort(), tasks: r.tasks.sort(), agents: r.agents.sort(), trustDomain: r.trust_domain, lastMs: Number(r.last_ms) }));
}

/**
 * Chains whose actions were recorded in several tasks since `fromMs`, named
 * by their last link's jti: the same delegation replayed in another task.
 */
export async function replayedChains(ctx: DetectorContext, fromMs: number): Promise<LinkSightings[]> {
  const rs = await ctx.client.query({
    query: `SELECT if(d.jti != '', d.jti, last_link) AS jti, [last_link] AS links, a.tasks AS tasks, [d.delegatee] AS agents,
                   d.trust_domain AS trust_domain, a.last_ms AS last_ms
            FROM (
              SELECT chain_hash, groupUniqArray(50)(task_id) AS tasks, toUnixTimestamp64Milli(max(received_at)) AS last_ms
              FROM ${ctx.database}.actions
              WHERE chain_hash != '' AND received_at >= fromUnixTimestamp64Milli({from:Int64})
              GROUP BY chain_hash HAVING uniqExact(task_id) > 1
              LIMIT 1000
            ) AS a
            INNER JOIN (SELECT chain_hash, arrayElement(link_hashes, -1) AS last_link FROM ${ctx.database}.chain_links) AS c ON c.chain_hash = a.chain_hash
            LEFT JOIN (SELECT link_hash, any(jti) AS jti, any(delegatee) AS delegatee, any(trust_domain) AS trust_domain FROM ${ctx.database}.delegations GROUP BY link_hash) AS d
              ON d.link_hash = c.last_link`,
    query_params: { from: Math.floor(fromMs) },
    format: 'JSONEachRow',
  });
  return (await rs.json<{ jti: string; links: string[]; tasks: string[]; agents: string[]; trust_domain: string; last_ms: string }>())
    .map((r) => ({ jti: r.jti, links: r.links, tasks: r.tasks.sort(), agents: r.agents.filter((a) => a !== ''), trustDomain: r.trust_domain, lastMs: Number(r.last_ms) }));
}

export class LinkReuseDetector implements WindowedDetector {
  readonly name = 'integrity.link_reuse';
  readonly intervalMs: number;

  constructor(private readonly cfg: IntegrityConfig['linkReuse']) {
    this.intervalMs = cfg.intervalSec * 1000;
  }

  async evaluate(ctx: DetectorContext, nowMs: number): Promise<DetectorOutput> {
    const from = nowMs - this.cfg.lookbackSec * 1000;
    const [byJti, replays] = await Promise.all([jtiSightings(ctx, from), replayedChains(ctx, from)]);
    return { signals: reuseSignals([...byJti, ...replays], this.cfg.severity) };
  }
}
