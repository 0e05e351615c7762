/** Alert signals for tests: a valid signal with overridable fields, and a way to store signals as the pipeline does. */
import type { ClickHouseClient } from '@clickhouse/client';
import type { AlertSignal } from '../../src/detect/alert.js';
import { toSignalRow } from '../../src/alert/rows.js';
import { alertId } from '../../src/detect/alert.js';
import { CO, PARTNER, PLANNER, BILLING, TASK_CO, TASK_PARTNER } from './api-fixtures.js';
import type { TestStore } from './store.js';
import { makeSpan } from './spans.js';
import type { AgentSpan } from '../../src/model/span.js';
import type { ChainSummary } from '../../src/model/delegation.js';
import { VERIFIED, failed, type Reason } from '../../src/model/verdict.js';
import { toActionRow } from '../../src/correlate/correlate.js';
import type { ActionRow } from '../../src/correlate/rows.js';

export function signal(over: Partial<AlertSignal> = {}): AlertSignal {
  return {
    kind: 'policy.violation',
    severity: 'medium',
    tenant: 'a.example',
    subject: 'rule r1 by spiffe://a.example/agent/x in task t1',
    windowStartMs: 0,
    eventKey: 'trace1/span1',
    observedAtMs: Date.UTC(2026, 10, 29, 12, 0, 0),
    taskId: 't1',
    human: 'alice@a.example',
    agents: ['spiffe://a.example/agent/x'],
    chainHash: 'c1',
    traceId: 'trace1',
    summary: 'x broke r1',
    evidence: { spanIds: ['span1'], linkIds: ['l1'], facts: { rule: 'r1' } },
    ...over,
  };
}

export async function storeSignals(client: ClickHouseClient, db: string, signals: AlertSignal[], detector = 'test'): Promise<void> {
  await client.insert({ table: `${db}.alert_signals`, format: 'JSONEachRow', values: signals.map((s) => toSignalRow(s, detector)) });
}

/** The store clock has millisecond resolution: a later row must be recorded in a later millisecond. */
export const nextMs = () => new Promise((r) => setTimeout(r, 5));

/** Alerts of the API fixtures' two tenants: two of co.example (one each of two kinds), one of partner.example. */
export const CO_ALERT = signal({ tenant: CO, subject: `rule r1 by ${PLANNER} in task ${TASK_CO}`, agents: [PLANNER], taskId: TASK_CO, observedAtMs: Date.UTC(2026, 0, 1) });
export const CO_ALERT_2 = signal({ kind: 'integrity.not_delegatee', severity: 'high', tenant: CO, subject: `${PLANNER} presented the chain of x`, agents: [PLANNER], taskId: TASK_CO, observedAtMs: Date.UTC(2026, 0, 2) });
export const PARTNER_ALERT = signal({ tenant: PARTNER, subject: `rule r1 by ${BILLING} in task ${TASK_PARTNER}`, agents: [BILLING], taskId: TASK_PARTNER, observedAtMs: Date.UTC(2026, 0, 3) });
export const CO_ALERT_ID = alertId(CO_ALERT);
export const PARTNER_ALERT_ID = alertId(PARTNER_ALERT);

export async function seedAlerts(store: TestStore): Promise<void> {
  await storeSignals(store.writer, store.config.database, [CO_ALERT, CO_ALERT_2, PARTNER_ALERT]);
}

/** An action row as correlation builds it: a span with the given verdict reasons (none: verified). */
export function actionRow(over: Partial<AgentSpan> = {}, reasons: Reason[] = [], chain: ChainSummary | null = null, receivedAtMs = Date.now()): ActionRow {
  return toActionRow(makeSpan(over), reasons.length === 0 ? VERIFIED : failed(reasons), chain, chain === null ? '' : 'chain-1', receivedAtMs);
}

/** A chain summary whose last delegatee is `delegatee`. */
export function chainTo(delegatee: string, human = 'alice@co.example'): ChainSummary {
  return { rootHuman: human, rootIssuedAtMs: 0, purpose: 'review', depth: 2, path: [human, 'spiffe://co.example/agent/planner', delegatee], delegator: 'spiffe://co.example/agent/planner', grantedScopes: ['cloud:read'], linkHashes: ['l1', 'l2'], evidence: 'signed-links' };
}
