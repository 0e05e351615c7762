/** The response audit table (migration 013). Values are query parameters only. */
import type { ClickHouseClient } from '@clickhouse/client';
import type { ResponseAction } from './plan.js';

export type ResponseMode = 'enforce' | 'dry_run';
/** revoked: a revocation exists for it; would_revoke: dry run; skipped: the alert qualified but named no single target, or the target was refused. */
export type ResponseOutcome = 'revoked' | 'would_revoke' | 'skipped';

export interface AuditRecord {
  alertId: string;
  action: ResponseAction;
  target: string;
  mode: ResponseMode;
  outcome: ResponseOutcome;
  reason: string;
  revocationId: string;
  actor: string;
  atMs: number;
}

interface AuditTuple {
  alert_id: string;
  action: ResponseAction;
  target: string;
  mode: ResponseMode;
  outcome: ResponseOutcome;
  reason: string;
  revocation_id: string;
  actor: string;
  at: string;
}

export class ResponseAuditStore {
  constructor(
    private readonly client: ClickHouseClient,
    private readonly db: string,
  ) {}

  async insert(r: AuditRecord): Promise<void> {
    await this.client.insert({
      table: `${this.db}.alert_response_audit`,
      format: 'JSONEachRow',
      values: [{ alert_id: r.alertId, action: r.action, target: r.target, mode: r.mode, outcome: r.outcome, reason: r.reason, revocation_id: r.revocationId, actor: r.actor, at: r.atMs }],
    });
  }

  /** The audit rows of one alert (every action, target and mode), or of every alert; one per key even before merges. */
  async list(alertId?: string): Promise<AuditRecord[]> {
    const rs = await this.client.query({
      query: `SELECT alert_id, action, target, mode, argMax(outcome, inserted_at) AS outcome, argMax(reason, inserted_at) AS reason,
                argMax(revocation_id, inserted_at) AS revocation_id, argMax(actor, inserted_at) AS actor, toUnixTimestamp64Milli(min(at)) AS at
              FROM ${this.db}.alert_response_audit
              WHERE {all:Bool} OR alert_id = {id:String}
              GROUP BY alert_id, action, target, mode ORDER BY at, alert_id`,
      query_params: { all: alertId === undefined, id: alertId ?? '' },
      format: 'JSONEachRow',
    });
    return (await rs.json<AuditTuple>()).map((t) => ({
      alertId: t.alert_id,
      action: t.action,
      target: t.target,
      mode: t.mode,
      outcome: t.outcome,
      reason: t.reason,
      revocationId: t.revocation_id,
      actor: t.actor,
      atMs: Number(t.at),
    }));
  }
}
