/**
 * Reads the per-edge grants and uses the over-provisioned-scope detector
 * judges, from scope_usage (migration 012): one row per edge and scope.
 */
import type { DetectorContext } from '../detector.js';
import { edgeKey, type EdgeGrant, type EdgeUse } from './subjects.js';

interface Row {
  delegator: string;
  delegatee: string;
  scope: string;
  first_granted: string | null;
  last_granted: string | null;
  last_used: string | null;
}

/**
 * Every edge's scopes granted since `grantedSinceMs` (older grants are
 * long settled) and every used scope, with their times in ms.
 */
export async function readEdgeScopes(ctx: DetectorContext, grantedSinceMs: number): Promise<{ grants: EdgeGrant[]; uses: EdgeUse[] }> {
  const rs = await ctx.client.query({
    query: `
      SELECT delegator, delegatee, scope,
             toUnixTimestamp64Milli(min(first_granted)) AS first_granted,
             toUnixTimestamp64Milli(max(last_granted)) AS last_granted,
             toUnixTimestamp64Milli(max(last_used)) AS last_used
      FROM ${ctx.database}.scope_usage
      GROUP BY delegatee, delegator, scope
      HAVING last_granted >= {since:Int64} OR last_used IS NOT NULL`,
    query_params: { since: grantedSinceMs },
    format: 'JSONEachRow',
  });
  const grants: EdgeGrant[] = [];
  const uses: EdgeUse[] = [];
  for (const r of await rs.json<Row>()) {
    if (r.first_granted !== null && r.last_granted !== null && Number(r.last_granted) >= grantedSinceMs) {
      grants.push({ delegator: r.delegator, delegatee: r.delegatee, scope: r.scope, firstGrantedMs: Number(r.first_granted), lastGrantedMs: Number(r.last_granted) });
    }
    if (r.last_used !== null) uses.push({ delegator: r.delegator, delegatee: r.delegatee, scope: r.scope, lastUsedMs: Number(r.last_used) });
  }
  return { grants, uses };
}

/**
 * Edges (as edgeKey) with a link recorded by a processor at or after `sinceMs`:
 * its uses may not be stored yet (links and actions have separate writers).
 * first_seen is the processor's judging time, not the link's signed iat, so a
 * backdated link counts as fresh too.
 */
export async function readRecentEdges(ctx: DetectorContext, sinceMs: number): Promise<Set<string>> {
  const rs = await ctx.client.query({
    query: `SELECT DISTINCT delegator, delegatee FROM ${ctx.database}.delegations WHERE first_seen >= fromUnixTimestamp64Milli({since:Int64})`,
    query_params: { since: sinceMs },
    format: 'JSONEachRow',
  });
  return new Set((await rs.json<{ delegator: string; delegatee: string }>()).map((r) => edgeKey(r.delegator, r.delegatee)));
}
