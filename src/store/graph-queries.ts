/**
 * Reads behind the console's delegation graph, agent scope history and
 * per-action chain view. SQL text holds only trusted identifiers; every value
 * (agent ids, times, tenants, cursor positions) is a query parameter.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { assertIdentifier } from './client.js';
import { AGENT_TRUST_DOMAIN, type DelegationView } from './queries.js';

export interface TimeRange {
  fromMs?: number;
  toMs?: number;
}

export interface Tenancy {
  /** Only rows of these trust domains; undefined for all. */
  trustDomains?: string[];
}

/** An edge as the links recorded it. */
export interface LinkEdgeRow {
  delegator: string;
  delegatee: string;
  delegator_kind: string;
  links: number;
  invalid: number;
  tasks: number;
}

/** An edge as actions exercised it: the chain's last delegatee, or an agent acting on a chain delegated to another. */
export interface ActionEdgeRow {
  delegator: string;
  delegatee: string;
  actions: number;
  failed: number;
  /** Actions whose chain was delegated to another agent than the one acting. */
  off_chain: number;
  tasks: number;
}

/** A task that used one edge, from its links and its actions. */
export interface EdgeTaskRow {
  task_id: string;
  links: number;
  invalid: number;
  actions: number;
  failed: number;
}

export interface ScopeBucketRow {
  start: string;
  actions: number;
  failed: number;
  granted: string[];
}

export interface ScopeUseRow {
  start: string;
  scope: string;
  uses: number;
}

/** One action's own row and the hashes of its chain's links, root first. */
export interface ActionChainRow {
  span_id: string;
  trace_id: string;
  ts: string;
  agent_id: string;
  chain_hash: string;
  chain_path: string[];
  verdict: string;
  reasons: string[];
  reason_details: string[];
}

/** A link's newest judgement, with the key it was signed with. */
export type LinkRow = DelegationView & { kid: string; alg: string };

/** The newest judgement of every span, the same row the actions table keeps when it merges (see queries.ts). */
const NEWEST_PER_SPAN = 'ORDER BY received_at DESC LIMIT 1 BY task_id, trace_id, span_id';
/** The newest judgement of every link (see 002_delegations.sql). */
const NEWEST_PER_LINK = 'ORDER BY first_seen DESC LIMIT 1 BY link_hash';

/**
 * Who an action's agent acted for: the hop before it in the chain it
 * presented, or, when the chain ends at another agent, that agent (an agent
 * acting on someone else's chain draws an edge no link grants). '' without a chain.
 */
const ACTION_DELEGATOR = 'if(chain_path[-1] = agent_id, chain_path[-2], chain_path[-1])';

export class GraphQueries {
  private readonly db: string;

  constructor(private readonly client: ClickHouseClient, database: string) {
    this.db = assertIdentifier(database);
  }

  /** Every delegator → delegatee pair the recorded links name, with link, invalid-link and task counts. */
  async linkEdges(range: TimeRange & Tenancy): Promise<LinkEdgeRow[]> {
    const params: Record<string, unknown> = {};
    const inner = linkWindow(range, params);
    const outer = linkTenancy(range, params);
    return this.rows<LinkEdgeRow>(`
      SELECT delegator, delegatee, any(delegator_kind) AS delegator_kind, toUInt32(count()) AS links,
             toUInt32(countIf(NOT valid)) AS invalid, toUInt32(uniqExact(task_id)) AS tasks
      FROM (SELECT delegator, delegatee, delegator_kind, valid, task_id, trust_domain FROM ${this.db}.delegations
            ${where(inner)} ${NEWEST_PER_LINK})
      ${where(outer)}
      GROUP BY delegator, delegatee`, params);
  }

  /** Every (delegator the chain names → agent that acted) pair, with action, flagged-action and task counts. */
  async actionEdges(range: TimeRange & Tenancy): Promise<ActionEdgeRow[]> {
    const params: Record<string, unknown> = {};
    const inner = [`${ACTION_DELEGATOR} != ''`, ...timeFilter('ts', range, params)];
    const outer = actionTenancy(range, params);
    return this.rows<ActionEdgeRow>(`
      SELECT delegator, agent_id AS delegatee, toUInt32(count()) AS actions,
             toUInt32(countIf(verdict != 'verified')) AS failed, toUInt32(countIf(off_chain)) AS off_chain,
             toUInt32(uniqExact(task_id)) AS tasks
      FROM (SELECT ${ACTION_DELEGATOR} AS delegator, chain_path[-1] != agent_id AS off_chain, agent_id, verdict, task_id FROM ${this.db}.actions
            ${where(inner)} ${NEWEST_PER_SPAN})
      ${where(outer)}
      GROUP BY delegator, delegatee`, params);
  }

  /**
   * Tasks that used one edge (a link from delegator to delegatee, or an
   * action of delegatee under a chain whose last hop is delegator), in
   * task_id order after `after`, at most `limit` (+1 to tell a next page).
   */
  async edgeTasks(delegator: string, delegatee: string, opts: TimeRange & Tenancy & { after?: string; limit: number }): Promise<EdgeTaskRow[]> {
    const lp: Record<string, unknown> = { from_id: delegator, to_id: delegatee, after: opts.after ?? '', max: opts.limit + 1 };
    const ap: Record<string, unknown> = { ...lp };
    const links = await this.rows<{ task_id: string; links: number; invalid: number }>(`
      SELECT task_id, toUInt32(count()) AS links, toUInt32(countIf(NOT valid)) AS invalid
      FROM (SELECT task_id, valid, trust_domain FROM ${this.db}.delegations
            ${where(['delegator = {from_id:String}', 'delegatee = {to_id:String}', 'task_id > {after:String}', ...linkWindow(opts, lp)])}
            ${NEWEST_PER_LINK})
      ${where(linkTenancy(opts, lp))}
      GROUP BY task_id ORDER BY task_id LIMIT {max:UInt32}`, lp);
    const acts = await this.rows<{ task_id: string; actions: number; failed: number }>(`
      SELECT task_id, toUInt32(count()) AS actions, toUInt32(countIf(verdict != 'verified')) AS failed
      FROM (SELECT task_id, agent_id, verdict FROM ${this.db}.actions
            ${where(['agent_id = {to_id:String}', `${ACTION_DELEGATOR} = {from_id:String}`, 'task_id > {after:String}', ...timeFilter('ts', opts, ap)])}
            ${NEWEST_PER_SPAN})
      ${where(actionTenancy(opts, ap))}
      GROUP BY task_id ORDER BY task_id LIMIT {max:UInt32}`, ap);
    const byTask = new Map<string, EdgeTaskRow>();
    const row = (id: string) => {
      let r = byTask.get(id);
      if (!r) byTask.set(id, (r = { task_id: id, links: 0, invalid: 0, actions: 0, failed: 0 }));
      return r;
    };
    for (const l of links) Object.assign(row(l.task_id), { links: Number(l.links), invalid: Number(l.invalid) });
    for (const a of acts) Object.assign(row(a.task_id), { actions: Number(a.actions), failed: Number(a.failed) });
    // Each source gave its first limit+1 tasks after the cursor, so the merged first limit+1 are exact.
    return [...byTask.values()].sort((x, y) => (x.task_id < y.task_id ? -1 : 1)).slice(0, opts.limit + 1);
  }

  /** An agent's actions per time bucket: how many, how many flagged, and the scopes its chains granted. */
  async scopeBuckets(agentId: string, bucketSec: number, opts: TimeRange & Tenancy & { after?: string; limit: number }): Promise<{ buckets: ScopeBucketRow[]; uses: ScopeUseRow[] }> {
    const params: Record<string, unknown> = { agent: agentId, bucket: bucketSec, max: opts.limit + 1 };
    const inner = ['agent_id = {agent:String}', ...timeFilter('ts', opts, params)];
    const outer = actionTenancy(opts, params);
    if (opts.after !== undefined) {
      outer.push('start > parseDateTime64BestEffort({after:String}, 3)');
      params.after = opts.after;
    }
    const spans = `
      SELECT toDateTime64(toStartOfInterval(ts, INTERVAL {bucket:UInt32} SECOND), 3) AS start, agent_id, verdict, scopes_granted, scopes_used
      FROM (SELECT ts, agent_id, verdict, scopes_granted, scopes_used FROM ${this.db}.actions ${where(inner)} ${NEWEST_PER_SPAN})`;
    const buckets = await this.rows<ScopeBucketRow>(`
      SELECT start, toUInt32(count()) AS actions, toUInt32(countIf(verdict != 'verified')) AS failed,
             arraySort(groupUniqArrayArray(scopes_granted)) AS granted
      FROM (${spans}) ${where(outer)}
      GROUP BY start ORDER BY start LIMIT {max:UInt32}`, params);
    if (buckets.length === 0) return { buckets, uses: [] };
    const kept = buckets.slice(0, opts.limit);
    params.last = kept[kept.length - 1]!.start;
    const uses = await this.rows<ScopeUseRow>(`
      SELECT start, scope, toUInt32(count()) AS uses
      FROM (${spans}) ARRAY JOIN scopes_used AS scope
      ${where([...outer, 'start <= parseDateTime64BestEffort({last:String}, 3)'])}
      GROUP BY start, scope ORDER BY start, scope`, params);
    return { buckets, uses };
  }

  /** One action of a task (its newest judgement) and the hashes of its chain's links, root first. */
  async actionChain(taskId: string, spanId: string, tenancy: Tenancy): Promise<{ action: ActionChainRow; linkHashes: string[] } | undefined> {
    const params: Record<string, unknown> = { task: taskId, span: spanId };
    const [action] = await this.rows<ActionChainRow>(`
      SELECT span_id, trace_id, ts, agent_id, chain_hash, chain_path, verdict, reasons, reason_details
      FROM (SELECT * FROM ${this.db}.actions WHERE task_id = {task:String} AND span_id = {span:String} ORDER BY received_at DESC LIMIT 1)
      ${where(actionTenancy(tenancy, params))}`, params);
    if (action === undefined) return undefined;
    if (action.chain_hash === '') return { action, linkHashes: [] };
    const [chain] = await this.rows<{ link_hashes: string[] }>(
      `SELECT link_hashes FROM ${this.db}.chain_links WHERE chain_hash = {hash:String} ORDER BY first_seen DESC LIMIT 1`,
      { hash: action.chain_hash },
    );
    return { action, linkHashes: chain?.link_hashes ?? [] };
  }

  /** The newest judgement of each of these links (any order; the caller orders them). */
  async links(hashes: string[]): Promise<LinkRow[]> {
    if (hashes.length === 0) return [];
    return this.rows<LinkRow>(`
      SELECT link_hash, jti, task_id, delegator, delegatee, delegator_kind, scopes, issued_at, not_before, expires_at, depth, valid, trust_domain, kid, alg
      FROM ${this.db}.delegations WHERE link_hash IN {hashes:Array(String)} ${NEWEST_PER_LINK}`, { hashes });
  }

  private async rows<T>(query: string, query_params: Record<string, unknown>): Promise<T[]> {
    const rs = await this.client.query({ query, query_params, format: 'JSONEachRow' });
    return rs.json<T>();
  }
}

function where(conditions: string[]): string {
  return conditions.length ? 'WHERE ' + conditions.join(' AND ') : '';
}

function timeFilter(column: string, range: TimeRange, params: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (range.fromMs !== undefined) {
    out.push(`${column} >= fromUnixTimestamp64Milli({from_ms:Int64})`);
    params.from_ms = range.fromMs;
  }
  if (range.toMs !== undefined) {
    out.push(`${column} < fromUnixTimestamp64Milli({to_ms:Int64})`);
    params.to_ms = range.toMs;
  }
  return out;
}

/** Links in force at some time in the range: issued before its end, expiring after its start. */
function linkWindow(range: TimeRange, params: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (range.fromMs !== undefined) {
    out.push('expires_at >= fromUnixTimestamp64Milli({from_ms:Int64})');
    params.from_ms = range.fromMs;
  }
  if (range.toMs !== undefined) {
    out.push('issued_at < fromUnixTimestamp64Milli({to_ms:Int64})');
    params.to_ms = range.toMs;
  }
  return out;
}

/** Links of the caller's trust domains only. */
function linkTenancy(t: Tenancy, params: Record<string, unknown>): string[] {
  if (t.trustDomains === undefined) return [];
  params.tds = t.trustDomains;
  return ['has({tds:Array(String)}, trust_domain)'];
}

/** Actions whose agent is of the caller's trust domains only (an agent id that is no SPIFFE ID matches none: fail closed). */
function actionTenancy(t: Tenancy, params: Record<string, unknown>): string[] {
  if (t.trustDomains === undefined) return [];
  params.tds = t.trustDomains;
  return [`has({tds:Array(String)}, ${AGENT_TRUST_DOMAIN})`];
}
