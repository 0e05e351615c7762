/**
 * Reading the policy decision log (schemas/clickhouse/005_policy_decisions):
 * "under which rules was this action allowed, or why was it denied". Every
 * value is a query parameter; a tenant sees the decisions on its agents' actions.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { AGENT_TRUST_DOMAIN } from './queries.js';
import { DECISION_PATH, BUNDLE_NAME, type DecisionLogEvent, type DecisionRow } from '../policy/decision-log.js';

/** A row of the decision log as read back: the written row, with the time it was decided. */
export type StoredDecision = Omit<DecisionRow, 'kind' | 'agent_id' | 'result'> & { agent_id: string; result: 'allow' | 'deny'; decided_at: string };

export interface DecisionQuery {
  taskId: string;
  /** One action's decision only. */
  spanId?: string;
  trustDomains?: string[];
  /** Keyset position (ts, span_id) of the last decision seen. */
  after?: { ts: string; spanId: string };
  limit: number;
}


/**
 * Each action's newest decision (a re-judgement under a new policy wins), in
 * (ts, span_id) order.
 */
export async function findDecisions(client: ClickHouseClient, db: string, q: DecisionQuery): Promise<StoredDecision[]> {
  const params: Record<string, unknown> = { task: q.taskId, limit: q.limit };
  const inner = ['task_id = {task:String}'];
  const outer: string[] = [];
  if (q.spanId !== undefined) {
    inner.push('span_id = {span:String}');
    params.span = q.spanId;
  }
  if (q.trustDomains !== undefined) {
    outer.push(`has({tds:Array(String)}, ${AGENT_TRUST_DOMAIN})`);
    params.tds = q.trustDomains;
  }
  if (q.after !== undefined) {
    outer.push('(ts, span_id) > (parseDateTime64BestEffort({a_ts:String}, 9), {a_span:String})');
    params.a_ts = q.after.ts;
    params.a_span = q.after.spanId;
  }
  const rs = await client.query({
    query: `SELECT * FROM (
              SELECT decision_id, ts, task_id, trace_id, span_id, agent_id, policy_version, revision, result, rules,
                     reason_codes, reason_details, reason_links, link_hashes, input, decided_at
              FROM ${db}.policy_decisions
              WHERE ${inner.join(' AND ')}
              ORDER BY decided_at DESC
              LIMIT 1 BY trace_id, span_id
            )
            ${outer.length ? 'WHERE ' + outer.join(' AND ') : ''}
            ORDER BY ts, span_id
            LIMIT {limit:UInt32}`,
    query_params: params,
    format: 'JSONEachRow',
  });
  return rs.json<StoredDecision>();
}

/** A stored decision as OPA's decision-log event, so OPA tooling reads it unchanged. */
export function toOpaEvent(d: StoredDecision): DecisionLogEvent {
  let input: unknown;
  try {
    input = JSON.parse(d.input);
  } catch {
    input = null;
  }
  return {
    decision_id: d.decision_id,
    path: DECISION_PATH,
    input,
    result: {
      result: d.result,
      rules: d.rules,
      reasons: d.reason_codes.map((code, i) => ({
        code: code as `policy.${string}`,
        rule: code.replace(/^policy\./, ''),
        ...((d.reason_links[i] ?? -1) >= 0 ? { link: d.reason_links[i]! } : {}),
        message: d.reason_details[i] ?? '',
      })),
    },
    timestamp: new Date(d.decided_at.endsWith('Z') ? d.decided_at : d.decided_at.replace(' ', 'T') + 'Z').toISOString(),
    bundles: { [BUNDLE_NAME]: { revision: d.revision } },
    labels: { app: 'chainsight', policy_version: d.policy_version, task_id: d.task_id, trace_id: d.trace_id, span_id: d.span_id },
  } as DecisionLogEvent;
}
