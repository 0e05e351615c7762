/**
 * Blast radius: for a link, an agent or a human, every chain derived from it
 * and every action taken under those chains, across tasks, with counts per
 * agent and scope. The incident responder's first question after a
 * revocation. Every value is a query parameter.
 */
import type { ClickHouseClient } from '@clickhouse/client';

export const BLAST_SUBJECTS = ['link', 'agent', 'human'] as const;
export type BlastSubject = (typeof BLAST_SUBJECTS)[number];

export interface BlastRadius {
  subject: { kind: BlastSubject; id: string };
  /** For a link: the hashes the id named (itself, or the links with that jti). */
  links: string[];
  /** Chains holding the subject (for a link: every chain holding it, so everything delegated from it). */
  chains: { chainHash: string; taskId: string; path: string[]; depth: number; actions: number }[];
  /** Links delegated from the subject, below it in those chains. */
  derivedLinks: string[];
  tasks: { taskId: string; actions: number; failed: number }[];
  actions: { total: number; verified: number; failed: number; first: string | null; last: string | null };
  byAgent: { agent: string; actions: number; failed: number; scopes: { scope: string; actions: number }[] }[];
  byScope: { scope: string; actions: number }[];
  /** True when a list was cut at the limit. */
  truncated: boolean;
}

const LIMIT = 1000;

/** Newest judgement of each action whose chain is one of {chains} (link) or matches the subject. */
function actionsOf(db: string, where: string): string {
  return `(SELECT task_id, trace_id, span_id, ts, agent_id, scopes_used, verdict, chain_hash, chain_path, chain_depth
     FROM ${db}.actions WHERE ${where}
     ORDER BY received_at DESC LIMIT 1 BY task_id, trace_id, span_id)`;
}

const WHERE: Record<BlastSubject, string> = {
  link: 'chain_hash IN {chains:Array(String)}',
  // Chains the agent appears in, and what it did under anyone else's chain (a borrowed chain is its action too).
  agent: '(has(chain_path, {id:String}) OR agent_id = {id:String})',
  human: 'root_human = {id:String}',
};

export class BlastRadiusQueries {
  constructor(
    private readonly client: ClickHouseClient,
    private readonly db: string,
  ) {}

  async of(kind: BlastSubject, id: string): Promise<BlastRadius> {
    const params: Record<string, unknown> = { id, limit: LIMIT };
    let links: string[] = [];
    let derived: string[] = [];
    if (kind === 'link') {
      links = await this.linkHashes(id);
      const chains = await this.rows<{ chain_hash: string; hashes: string[] }>(
        `SELECT chain_hash, any(link_hashes) AS hashes FROM ${this.db}.chain_links
         WHERE hasAny(link_hashes, {links:Array(String)}) GROUP BY chain_hash`,
        { links },
      );
      params.chains = chains.map((c) => c.chain_hash);
      const below = new Set<string>();
      for (const c of chains) {
        const at = c.hashes.findIndex((h) => links.includes(h));
        for (const h of c.hashes.slice(at + 1)) below.add(h);
      }
      derived = [...below];
    }
    const from = actionsOf(this.db, WHERE[kind]);
    const [chains, tasks, totals, byAgentScope] = await Promise.all([
      this.rows<{ chain_hash: string; task_id: string; path: string[]; depth: number; n: string }>(
        `SELECT chain_hash, any(task_id) AS task_id, any(chain_path) AS path, any(chain_depth) AS depth, count() AS n
         FROM ${from} GROUP BY chain_hash ORDER BY n DESC, chain_hash LIMIT {limit:UInt32}`, params),
      this.rows<{ task_id: string; n: string; failed: string }>(
        `SELECT task_id, count() AS n, countIf(verdict = 'failed') AS failed
         FROM ${from} GROUP BY task_id ORDER BY n DESC, task_id LIMIT {limit:UInt32}`, params),
      this.rows<{ n: string; failed: string; first: string | null; last: string | null }>(
        `SELECT count() AS n, countIf(verdict = 'failed') AS failed,
                if(n = 0, NULL, toString(min(ts))) AS first, if(n = 0, NULL, toString(max(ts))) AS last FROM ${from}`, params),
      this.rows<{ agent_id: string; scope: string; n: string; failed: string }>(
        `SELECT agent_id, scope, count() AS n, countIf(verdict = 'failed') AS failed
         FROM ${from} LEFT ARRAY JOIN scopes_used AS scope GROUP BY agent_id, scope ORDER BY agent_id, n DESC`, params),
    ]);
    const perAgent = await this.rows<{ agent_id: string; n: string; failed: string }>(
      `SELECT agent_id, count() AS n, countIf(verdict = 'failed') AS failed FROM ${from} GROUP BY agent_id ORDER BY n DESC, agent_id`, params);
    const scopesOf = new Map<string, { scope: string; actions: number }[]>();
    const byScope = new Map<string, number>();
    for (const r of byAgentScope) {
      if (r.scope === '') continue;
      const list = scopesOf.get(r.agent_id) ?? [];
      list.push({ scope: r.scope, actions: Number(r.n) });
      scopesOf.set(r.agent_id, list);
      byScope.set(r.scope, (byScope.get(r.scope) ?? 0) + Number(r.n));
    }
    const t = totals[0];
    const total = Number(t?.n ?? 0);
    return {
      subject: { kind, id },
      links,
      chains: chains.map((c) => ({ chainHash: c.chain_hash, taskId: c.task_id, path: c.path, depth: Number(c.depth), actions: Number(c.n) })),
      derivedLinks: derived,
      tasks: tasks.map((r) => ({ taskId: r.task_id, actions: Number(r.n), failed: Number(r.failed) })),
      actions: { total, verified: total - Number(t?.failed ?? 0), failed: Number(t?.failed ?? 0), first: total ? (t?.first ?? null) : null, last: total ? (t?.last ?? null) : null },
      byAgent: perAgent.map((a) => ({ agent: a.agent_id, actions: Number(a.n), failed: Number(a.failed), scopes: scopesOf.get(a.agent_id) ?? [] })),
      byScope: [...byScope].map(([scope, actions]) => ({ scope, actions })).sort((a, b) => b.actions - a.actions || a.scope.localeCompare(b.scope)),
      truncated: chains.length >= LIMIT || tasks.length >= LIMIT,
    };
  }

  /** The id as a link hash, plus every link whose jti it is. */
  private async linkHashes(id: string): Promise<string[]> {
    const rows = await this.rows<{ link_hash: string }>(
      `SELECT DISTINCT link_hash FROM ${this.db}.delegations WHERE jti = {id:String} OR link_hash = {id:String}`, { id });
    return [...new Set([id, ...rows.map((r) => r.link_hash)])];
  }

  private async rows<T>(query: string, query_params: Record<string, unknown>): Promise<T[]> {
    const rs = await this.client.query({ query, query_params, format: 'JSONEachRow' });
    return rs.json<T>();
  }
}
