/** Alert signals for tests: a valid signal with overridable fields, and a way to store signals as the pipeline does. */
import type { ClickHouseClient } from '@clickhouse/client';
import type { AlertSignal } from '../../src/detect/alert.js';
import { toSignalRow } from '../../src/alert/rows.js';

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
