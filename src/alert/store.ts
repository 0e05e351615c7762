/**
 * The alert store (schemas/alerts.md, migration 009): alerts are folded from
 * their signals and transitions at read time, with explicit deduplication,
 * so answers never depend on background merges. SQL text holds trusted
 * identifiers only; every value is a query parameter.
 */
import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { assertIdentifier } from '../store/client.js';
import { toPage, type Page } from '../store/queries.js';
import { SEVERITIES, type AlertKind, type AlertState, type Severity } from '../detect/alert.js';
import { selfResolutionId, type AlertResolutionRow } from './rows.js';

/** An alert as the API, the CLI and delivery show it (times ISO-8601, null when absent). */
export interface AlertView {
  id: string;
  kind: AlertKind;
  severity: Severity;
  state: AlertState;
  tenant: string;
  subject: string;
  summary: string;
  taskId: string;
  human: string;
  agents: string[];
  chainHash: string;
  traceId: string;
  windowStart: string | null;
  firstSeen: string;
  lastSeen: string;
  count: number;
  acknowledgedBy: string | null;
  acknowledgedAt: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
  resolution: string | null;
}

export interface AlertHistoryEntry {
  state: AlertState;
  actor: string;
  at: string;
  note: string;
}

export interface AlertDetail extends AlertView {
  evidence: { spanIds: string[]; linkIds: string[]; facts: Record<string, unknown> };
  history: AlertHistoryEntry[];
}

/** Keyset position in the list: (lastSeen ms, id) of the last alert seen, newest first. */
export interface AlertPosition { lastSeen: string; id: string }

export interface AlertFilter {
  state?: AlertState;
  kind?: AlertKind;
  /** Minimum severity. */
  severity?: Severity;
  agent?: string;
  human?: string;
  task?: string;
  /** Alerts active in [sinceMs, untilMs): last seen at or after since, first seen before until. */
  sinceMs?: number;
  untilMs?: number;
  /** Tenant restriction: undefined for all, [] for none. */
  tenants?: string[];
  limit?: number;
  after?: AlertPosition;
}

/** What delivery polls: an alert that became firing, was updated, or resolved. */
export type AlertChangeKind = 'firing' | 'updated' | 'resolved';
export interface AlertChange {
  change: AlertChangeKind;
  /** Identifies this change: the same change read twice (overlapping polls, several processors) has the same key. */
  key: string;
  alert: AlertView;
}
/**
 * Where a changes poll goes on from, opaque to callers: `<ms>` (the store's
 * clock at the last poll) or `<ms>/<alert id>` (a poll cut at its limit).
 */
export type ChangeCursor = string;

export interface AlertChanges {
  changes: AlertChange[];
  /** Pass back as `sinceMs` on the next poll. */
  cursor: ChangeCursor;
}

/** Why an acknowledge or resolve cannot apply (the API's 409). */
export class AlertConflict extends Error {
  override name = 'AlertConflict';
}

/** Evidence kept with an alert: the newest triggers' ids, capped. */
export const EVIDENCE_CAP = 50;
const MAX_LIMIT = 1000;
/** changesSince reads this far behind its cursor, so a row whose insert became visible late is still seen once. */
export const CHANGE_OVERLAP_MS = 5000;

const SEVERITY_ARRAY = `[${SEVERITIES.map((s) => `'${s}'`).join(', ')}]`;

/** Folded alert columns as read: times in epoch ms. */
interface FoldedRow {
  alert_id: string;
  tenant: string;
  kind: string;
  severity: string;
  subject: string;
  window_start: string;
  summary: string;
  task_id: string;
  human: string;
  agents: string[];
  chain_hash: string;
  trace_id: string;
  count: string;
  first_seen: string;
  last_seen: string;
  opened_at: string;
  first_recorded: string;
  touched_at: string;
  state: string;
  ack_by: string;
  ack_at: string;
  res_by: string;
  res_at: string;
  res_note: string;
}

const FOLDED_COLUMNS = `alert_id, tenant, kind, severity, subject, window_start, summary, task_id, human, agents, chain_hash, trace_id,
  count, first_seen, last_seen, opened_at, first_recorded, touched_at, state, ack_by, ack_at, res_by, res_at, res_note`;

const iso = (msText: string | number): string => new Date(Number(msText)).toISOString();

function viewOf(r: FoldedRow): AlertView {
  const state = r.state as AlertState;
  const acked = state !== 'open' && r.ack_by !== '';
  const resolved = state === 'resolved';
  return {
    id: r.alert_id,
    kind: r.kind as AlertKind,
    severity: r.severity as Severity,
    state,
    tenant: r.tenant,
    subject: r.subject,
    summary: r.summary,
    taskId: r.task_id,
    human: r.human,
    agents: r.agents,
    chainHash: r.chain_hash,
    traceId: r.trace_id,
    windowStart: Number(r.window_start) > 0 ? iso(r.window_start) : null,
    firstSeen: iso(r.first_seen),
    lastSeen: iso(r.last_seen),
    count: Number(r.count),
    acknowledgedBy: acked ? r.ack_by : null,
    acknowledgedAt: acked ? iso(r.ack_at) : null,
    resolvedBy: resolved ? r.res_by : null,
    resolvedAt: resolved ? iso(r.res_at) : null,
    resolution: resolved ? r.res_note : null,
  };
}

/**
 * The fold, as one statement with `{where}` placeholders for the alert-level
 * restriction pushed into both inner reads (tenant, kind, ids).
 *
 * events: one row per (alert, event key), its first recording winning.
 * transitions: one row per transition id (first copy), then per alert the
 * newest state. An alert is open when it has no transition, or when its
 * newest transition is a resolution and a new event was recorded after it.
 */
function foldStatement(db: string, inner: FoldScope): string {
  const where = inner.signals.length === 0 ? '' : `WHERE ${inner.signals.join(' AND ')}`;
  const whereT = inner.transitions.length === 0 ? '' : `WHERE ${inner.transitions.join(' AND ')}`;
  return `
    SELECT e.alert_id AS alert_id, tenant, kind, severity, subject, window_start, summary, task_id, human, agents,
           chain_hash, trace_id, count, first_seen, last_seen, first_recorded, touched_at, tasks, humans, agents_all,
           multiIf(t.t_state = '', 'open', t.t_state = 'resolved' AND last_recorded > t.t_at, 'open', t.t_state) AS state,
           t.ack_by AS ack_by, t.ack_at AS ack_at, t.res_by AS res_by, t.res_at AS res_at, t.res_note AS res_note,
           if(t.res_at = 0, first_recorded, arrayMin(arrayFilter(x -> x > t.res_at, recorded))) AS opened_at
    FROM (
      SELECT alert_id,
             any(ev_tenant) AS tenant, any(ev_kind) AS kind,
             arrayElement(${SEVERITY_ARRAY}, toUInt8(max(ev_sev))) AS severity,
             any(ev_subject) AS subject, any(ev_window) AS window_start,
             argMax(ev_summary, ev_last_obs) AS summary,
             argMin(ev_task, ev_first_obs) AS task_id, argMin(ev_human, ev_first_obs) AS human,
             groupUniqArrayArray(ev_agents) AS agents_all,
             arraySlice(arraySort(agents_all), 1, ${EVIDENCE_CAP}) AS agents,
             argMin(ev_chain, ev_first_obs) AS chain_hash, argMin(ev_trace, ev_first_obs) AS trace_id,
             groupUniqArray(ev_task) AS tasks, groupUniqArray(ev_human) AS humans,
             count() AS count,
             min(ev_first_obs) AS first_seen, max(ev_last_obs) AS last_seen,
             min(ev_recorded) AS first_recorded, max(ev_recorded) AS last_recorded, max(ev_touched) AS touched_at,
             groupArray(ev_recorded) AS recorded
      FROM (
        SELECT alert_id, event_key,
               argMin(tenant, inserted_at) AS ev_tenant, argMin(kind, inserted_at) AS ev_kind,
               max(indexOf(${SEVERITY_ARRAY}, severity)) AS ev_sev,
               argMin(subject, inserted_at) AS ev_subject, toUnixTimestamp64Milli(argMin(window_start, inserted_at)) AS ev_window,
               argMax(summary, (observed_at, inserted_at)) AS ev_summary,
               argMin(task_id, inserted_at) AS ev_task, argMin(human, inserted_at) AS ev_human,
               argMin(agents, inserted_at) AS ev_agents, argMin(chain_hash, inserted_at) AS ev_chain, argMin(trace_id, inserted_at) AS ev_trace,
               toUnixTimestamp64Milli(min(observed_at)) AS ev_first_obs, toUnixTimestamp64Milli(max(observed_at)) AS ev_last_obs,
               toUnixTimestamp64Milli(min(inserted_at)) AS ev_recorded, toUnixTimestamp64Milli(max(inserted_at)) AS ev_touched
        FROM ${db}.alert_signals
        ${where}
        GROUP BY alert_id, event_key
      )
      GROUP BY alert_id
    ) AS e
    LEFT JOIN (
      SELECT alert_id,
             argMax(state, (at, transition_id)) AS t_state, toUnixTimestamp64Milli(max(at)) AS t_at,
             argMaxIf(actor, (at, transition_id), state = 'acknowledged') AS ack_by,
             toUnixTimestamp64Milli(maxIf(at, state = 'acknowledged')) AS ack_at,
             argMaxIf(actor, (at, transition_id), state = 'resolved') AS res_by,
             toUnixTimestamp64Milli(maxIf(at, state = 'resolved')) AS res_at,
             argMaxIf(note, (at, transition_id), state = 'resolved') AS res_note
      FROM (SELECT * FROM ${db}.alert_transitions ${whereT} ORDER BY at, transition_id LIMIT 1 BY alert_id, transition_id)
      GROUP BY alert_id
    ) AS t ON e.alert_id = t.alert_id`;
}

/** Restrictions pushed into the fold's reads: on both tables (alert id, tenant) or on signals only (kind). */
interface FoldScope {
  signals: string[];
  transitions: string[];
}

const both = (...conds: string[]): FoldScope => ({ signals: [...conds], transitions: [...conds] });

/** The alerts: signals and resolutions in, folded alerts out. */
export class AlertStore {
  private readonly db: string;

  constructor(
    private readonly client: ClickHouseClient,
    database: string,
  ) {
    this.db = assertIdentifier(database);
  }

  /** A page of alerts, most recently active first. */
  async list(f: AlertFilter = {}): Promise<Page<AlertView, AlertPosition>> {
    const limit = Math.min(Math.max(f.limit ?? 100, 1), MAX_LIMIT);
    if (f.tenants !== undefined && f.tenants.length === 0) return { items: [], next: null };
    const params: Record<string, unknown> = { limit: limit + 1 };
    const inner = both();
    const outer: string[] = [];
    if (f.tenants !== undefined) {
      inner.signals.push('has({tenants:Array(String)}, tenant)');
      inner.transitions.push('has({tenants:Array(String)}, tenant)');
      params.tenants = f.tenants;
    }
    if (f.kind !== undefined) {
      inner.signals.push('kind = {kind:String}');
      params.kind = f.kind;
    }
    if (f.state !== undefined) {
      outer.push('state = {state:String}');
      params.state = f.state;
    }
    if (f.severity !== undefined) {
      outer.push(`indexOf(${SEVERITY_ARRAY}, severity) >= indexOf(${SEVERITY_ARRAY}, {severity:String})`);
      params.severity = f.severity;
    }
    if (f.agent !== undefined) {
      outer.push('has(agents_all, {agent:String})');
      params.agent = f.agent;
    }
    if (f.human !== undefined) {
      outer.push('has(humans, {human:String})');
      params.human = f.human;
    }
    if (f.task !== undefined) {
      outer.push('has(tasks, {task:String})');
      params.task = f.task;
    }
    if (f.sinceMs !== undefined) {
      outer.push('last_seen >= {since:Int64}');
      params.since = Math.floor(f.sinceMs);
    }
    if (f.untilMs !== undefined) {
      outer.push('first_seen < {until:Int64}');
      params.until = Math.floor(f.untilMs);
    }
    if (f.after !== undefined) {
      outer.push('(last_seen < {a_seen:Int64} OR (last_seen = {a_seen:Int64} AND alert_id > {a_id:String}))');
      params.a_seen = Number(f.after.lastSeen);
      params.a_id = f.after.id;
    }
    const rows = await this.fold(inner, outer, params, 'ORDER BY last_seen DESC, alert_id ASC LIMIT {limit:UInt32}');
    return toPage(rows.map(viewOf), limit, (a) => ({ lastSeen: String(Date.parse(a.lastSeen)), id: a.id }));
  }

  /** One alert with its evidence and history; undefined when absent or outside the tenants. */
  async get(id: string, tenants?: string[]): Promise<AlertDetail | undefined> {
    const view = await this.view(id, tenants);
    if (view === undefined) return undefined;
    const [evidence, history] = await Promise.all([this.evidence(id), this.history(id, view)]);
    return { ...view, evidence, history };
  }

  /** An alert's current view (tenant-restricted), or undefined. */
  async view(id: string, tenants?: string[]): Promise<AlertView | undefined> {
    if (tenants !== undefined && tenants.length === 0) return undefined;
    const conds = ['alert_id = {id:String}'];
    const params: Record<string, unknown> = { id };
    if (tenants !== undefined) {
      conds.push('has({tenants:Array(String)}, tenant)');
      params.tenants = tenants;
    }
    const [row] = await this.fold(both(...conds), [], params, 'LIMIT 1');
    return row && viewOf(row);
  }

  /** Marks an alert acknowledged by `actor`; a no-op when it already is. Refuses a resolved alert. */
  async acknowledge(id: string, actor: string, note: string, tenants?: string[]): Promise<AlertView | undefined> {
    const current = await this.view(id, tenants);
    if (current === undefined) return undefined;
    if (current.state === 'resolved') throw new AlertConflict('the alert is resolved; it opens again if it triggers again');
    if (current.state === 'acknowledged') return current;
    await this.transition(current, 'acknowledged', actor, note, randomUUID());
    return this.view(id, tenants);
  }

  /** Marks an alert resolved by `actor`; a no-op when it already is. */
  async resolve(id: string, actor: string, note: string, tenants?: string[]): Promise<AlertView | undefined> {
    const current = await this.view(id, tenants);
    if (current === undefined) return undefined;
    if (current.state === 'resolved') return current;
    await this.transition(current, 'resolved', actor, note, randomUUID());
    return this.view(id, tenants);
  }

  /**
   * Detectors' self-resolutions: written for alerts that exist and are not
   * resolved; the transition id names the episode, so processors resolving
   * the same episode count once.
   */
  async applyResolutions(rows: readonly AlertResolutionRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    const ids = [...new Set(rows.map((r) => r.alert_id))];
    const current = await this.fold(both('has({ids:Array(String)}, alert_id)'), [], { ids }, '');
    const byId = new Map(current.map((r) => [r.alert_id, r]));
    const values = [];
    const done = new Set<string>();
    for (const r of rows) {
      const c = byId.get(r.alert_id);
      if (c === undefined || c.tenant !== r.tenant || c.state === 'resolved' || done.has(r.alert_id)) continue;
      done.add(r.alert_id);
      values.push({
        alert_id: r.alert_id, tenant: r.tenant, transition_id: selfResolutionId(r.alert_id, Number(c.opened_at)),
        state: 'resolved', actor: `detector:${r.detector}`, note: r.reason,
      });
    }
    if (values.length > 0) await this.client.insert({ table: `${this.db}.alert_transitions`, format: 'JSONEachRow', values });
    return values.length;
  }

  /**
   * Alerts whose signals or transitions were recorded since the cursor
   * (null: since ever), oldest change first, read CHANGE_OVERLAP_MS behind
   * it: a change may be answered on two polls, under the same key. At most
   * `limit` alerts; the cursor returned goes on after the last one.
   */
  async changesSince(since: ChangeCursor | null, limit = 10_000): Promise<AlertChanges> {
    const nowRs = await this.client.query({ query: 'SELECT toUnixTimestamp64Milli(now64(3)) AS now', format: 'JSONEachRow' });
    const now = String((await nowRs.json<{ now: string }>())[0]!.now);
    const m = /^(\d{1,15})(?:\/([0-9a-f]{32}))?$/.exec(since ?? '0');
    if (!m) throw new Error(`not a changes cursor: ${JSON.stringify(String(since).slice(0, 80))}`);
    const at = Number(m[1]);
    // A poll cut at its limit goes on strictly after the last alert it returned; a full one re-reads the overlap.
    const after = m[2] === undefined ? undefined : { at, id: m[2] };
    const from = after ? at - 1 : Math.max(0, at - CHANGE_OVERLAP_MS);
    const touched = await this.client.query({
      query: `SELECT alert_id, toUnixTimestamp64Milli(max(t)) AS touched FROM (
                SELECT alert_id, inserted_at AS t FROM ${this.db}.alert_signals WHERE inserted_at > fromUnixTimestamp64Milli({from:Int64})
                UNION ALL
                SELECT alert_id, at AS t FROM ${this.db}.alert_transitions WHERE at > fromUnixTimestamp64Milli({from:Int64})
              ) GROUP BY alert_id
              ${after ? 'HAVING (touched, alert_id) > ({a_at:Int64}, {a_id:String})' : ''}
              ORDER BY touched, alert_id LIMIT {limit:UInt32}`,
      query_params: { from, limit, a_at: after?.at ?? 0, a_id: after?.id ?? '' },
      format: 'JSONEachRow',
    });
    const hits = await touched.json<{ alert_id: string; touched: string }>();
    const last = hits[hits.length - 1];
    const cursor = hits.length < limit || last === undefined ? now : `${last.touched}/${last.alert_id}`;
    if (hits.length === 0) return { changes: [], cursor };
    const rows = await this.fold(both('has({ids:Array(String)}, alert_id)'), [], { ids: hits.map((r) => r.alert_id) }, 'ORDER BY touched_at, alert_id');
    return { changes: rows.map((r) => changeOf(r, from)), cursor };
  }

  private async transition(a: AlertView, state: AlertState, actor: string, note: string, transitionId: string): Promise<void> {
    await this.client.insert({
      table: `${this.db}.alert_transitions`,
      format: 'JSONEachRow',
      values: [{ alert_id: a.id, tenant: a.tenant, transition_id: transitionId, state, actor, note }],
    });
  }

  private async fold(inner: FoldScope, outer: string[], params: Record<string, unknown>, tail: string): Promise<FoldedRow[]> {
    const rs = await this.client.query({
      query: `SELECT ${FOLDED_COLUMNS} FROM (${foldStatement(this.db, inner)})
              ${outer.length ? 'WHERE ' + outer.join(' AND ') : ''} ${tail}`,
      query_params: params,
      format: 'JSONEachRow',
    });
    return rs.json<FoldedRow>();
  }

  /** The newest triggers' span and link ids (capped) and the newest trigger's facts. */
  private async evidence(id: string): Promise<AlertDetail['evidence']> {
    const rs = await this.client.query({
      query: `SELECT event_key, argMin(span_ids, inserted_at) AS span_ids, argMin(link_ids, inserted_at) AS link_ids,
                     argMax(facts, (observed_at, inserted_at)) AS facts, max(observed_at) AS seen
              FROM ${this.db}.alert_signals WHERE alert_id = {id:String}
              GROUP BY event_key ORDER BY seen DESC, event_key LIMIT {cap:UInt32}`,
      query_params: { id, cap: EVIDENCE_CAP },
      format: 'JSONEachRow',
    });
    const events = await rs.json<{ span_ids: string[]; link_ids: string[]; facts: string }>();
    const cap = (xs: string[][]) => [...new Set(xs.flat())].slice(0, EVIDENCE_CAP);
    let facts: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(events[0]?.facts ?? '{}');
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) facts = parsed as Record<string, unknown>;
    } catch {
      facts = {};
    }
    return { spanIds: cap(events.map((e) => e.span_ids)), linkIds: cap(events.map((e) => e.link_ids)), facts };
  }

  /**
   * The alert's history, oldest first: raised (its first recording), each
   * transition, and each reopening (the first new event after a resolution).
   */
  private async history(id: string, view: AlertView): Promise<AlertHistoryEntry[]> {
    const rs = await this.client.query({
      query: `SELECT state, actor, note, toUnixTimestamp64Milli(at) AS at FROM ${this.db}.alert_transitions
              WHERE alert_id = {id:String} ORDER BY at, transition_id LIMIT 1 BY transition_id`,
      query_params: { id },
      format: 'JSONEachRow',
    });
    const transitions = await rs.json<{ state: AlertState; actor: string; note: string; at: string }>();
    const resolvedAt = transitions.filter((t) => t.state === 'resolved').map((t) => Number(t.at));
    const reopened = resolvedAt.length === 0 ? [] : await this.reopenings(id, resolvedAt);
    const raised = await this.client.query({
      query: `SELECT toUnixTimestamp64Milli(min(inserted_at)) AS at, argMin(detector, inserted_at) AS detector FROM ${this.db}.alert_signals WHERE alert_id = {id:String}`,
      query_params: { id },
      format: 'JSONEachRow',
    });
    const first = (await raised.json<{ at: string; detector: string }>())[0];
    const entries: { at: number; e: AlertHistoryEntry }[] = [];
    if (first) entries.push({ at: Number(first.at), e: { state: 'open', actor: `detector:${first.detector}`, at: iso(first.at), note: `raised: ${view.summary}` } });
    for (const t of transitions) entries.push({ at: Number(t.at), e: { state: t.state, actor: t.actor, at: iso(t.at), note: t.note } });
    for (const r of reopened) entries.push({ at: r.at, e: { state: 'open', actor: `detector:${r.detector}`, at: iso(r.at), note: 'triggered again after its resolution' } });
    return entries.sort((a, b) => a.at - b.at).map((x) => x.e);
  }

  /** For each resolution, the first event recorded after it (and before the next resolution): when the alert opened again. */
  private async reopenings(id: string, resolvedAt: number[]): Promise<{ at: number; detector: string }[]> {
    const rs = await this.client.query({
      query: `SELECT lo, min(recorded) AS at, argMin(detector, recorded) AS detector FROM (
                SELECT event_key, toUnixTimestamp64Milli(min(inserted_at)) AS recorded, argMin(detector, inserted_at) AS detector
                FROM ${this.db}.alert_signals WHERE alert_id = {id:String} GROUP BY event_key
              ) ARRAY JOIN {lo:Array(Int64)} AS lo, {hi:Array(Int64)} AS hi
              WHERE recorded > lo AND recorded <= hi
              GROUP BY lo`,
      query_params: { id, lo: resolvedAt, hi: resolvedAt.map((_, i) => resolvedAt[i + 1] ?? Number.MAX_SAFE_INTEGER) },
      format: 'JSONEachRow',
    });
    return (await rs.json<{ at: string; detector: string }>()).map((r) => ({ at: Number(r.at), detector: r.detector }));
  }
}

/** What changed about an alert since `fromMs`, and the key that names that change. */
function changeOf(r: FoldedRow, fromMs: number): AlertChange {
  const alert = viewOf(r);
  if (alert.state === 'resolved') return { change: 'resolved', key: `${alert.id}/resolved/${r.res_at}`, alert };
  if (Number(r.opened_at) > fromMs) return { change: 'firing', key: `${alert.id}/firing/${r.opened_at}`, alert };
  return { change: 'updated', key: `${alert.id}/updated/${alert.count}/${alert.state}`, alert };
}
