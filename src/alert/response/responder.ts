/**
 * The automated response as an outbox destination: it gets every
 * notification once, in order, restart-safe, from the one dispatcher, like
 * any sink. Idempotent on top of that: an alert already audited for an
 * action and target is not acted on again (a reopened alert, a redelivery),
 * and a revocation this response already made for the alert (a crash
 * between revoking and auditing) is reused instead of repeated.
 */
import { parseRevocationRequest, RevocationRequestError } from '../../revoke/model.js';
import type { RevocationStore } from '../../revoke/store.js';
import type { Destination, OutboxEntry } from '../delivery/destination.js';
import type { ResponseAuditStore, ResponseMode } from './audit-store.js';
import type { ResponseConfig } from './config.js';
import { planResponse, RESPONSE_ACTOR } from './plan.js';

export const RESPONSE_DESTINATION = 'response';

export interface ResponseLogger {
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
}

export class ResponseDestination implements Destination {
  readonly name = RESPONSE_DESTINATION;

  constructor(
    private readonly config: ResponseConfig,
    private readonly revocations: RevocationStore,
    private readonly audit: ResponseAuditStore,
    private readonly logger: ResponseLogger,
    private readonly now: () => number = Date.now,
  ) {}

  async deliver(entry: OutboxEntry): Promise<void> {
    const c = entry.change;
    const plan = planResponse(c, this.config);
    if (plan.do === 'none') return;
    const mode: ResponseMode = this.config.dryRun ? 'dry_run' : 'enforce';
    const base = { alertId: c.id, action: plan.action, mode, actor: RESPONSE_ACTOR, atMs: this.now() };
    if (plan.do === 'skip') {
      await this.audit.insert({ ...base, target: '', outcome: 'skipped', reason: plan.reason, revocationId: '' });
      return;
    }
    const done = (await this.audit.list(c.id)).find((a) => a.action === plan.action && a.target === plan.target && a.mode === mode);
    if (done) return;
    let request;
    try {
      request = parseRevocationRequest({ kind: plan.kind, target: plan.target, reason: plan.reason, revokedBy: RESPONSE_ACTOR }, base.atMs);
    } catch (err) {
      if (!(err instanceof RevocationRequestError)) throw err;
      // Evidence is detector output about hostile input: a target the revocation rules refuse is audited, not revoked.
      await this.audit.insert({ ...base, target: plan.target.slice(0, 512), outcome: 'skipped', reason: `target refused: ${err.message}`, revocationId: '' });
      return;
    }
    if (mode === 'dry_run') {
      await this.audit.insert({ ...base, target: plan.target, outcome: 'would_revoke', reason: plan.reason, revocationId: '' });
      this.logger.info({ alertId: c.id, action: plan.action, target: plan.target }, 'automated response (dry run): would revoke');
      return;
    }
    const prior = (await this.revocations.list({ kind: plan.kind, target: plan.target })).find((r) => r.revokedBy === RESPONSE_ACTOR && r.reason.startsWith(`alert ${c.id} `));
    const revocation = prior ?? (await this.revocations.revoke(request, base.atMs));
    await this.audit.insert({ ...base, target: plan.target, outcome: 'revoked', reason: plan.reason, revocationId: revocation.id });
    this.logger.warn({ alertId: c.id, action: plan.action, target: plan.target, revocationId: revocation.id }, 'automated response: revoked');
  }

  async close(): Promise<void> {}
}
