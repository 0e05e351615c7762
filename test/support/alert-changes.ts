/** Alert changes as the alert store would emit them, for the delivery tests. */
import { alertId, type AlertKind, type Severity } from '../../src/detect/alert.js';
import type { AlertChange, AlertSnapshot } from '../../src/alert/delivery/change.js';

export interface ChangeOptions {
  kind?: AlertKind;
  severity?: Severity;
  subject?: string;
  status?: AlertChange['status'];
  seq?: number;
  atMs?: number;
  linkIds?: string[];
  agents?: string[];
  facts?: AlertSnapshot['evidence']['facts'];
}

const T0 = Date.parse('2026-11-29T10:00:00Z');

export function change(o: ChangeOptions = {}): AlertChange {
  const kind = o.kind ?? 'integrity.link_reuse';
  const subject = o.subject ?? 'jti-1';
  const tenant = 'acme.example';
  const id = alertId({ kind, tenant, subject, windowStartMs: 0 });
  const status = o.status ?? 'firing';
  const atMs = o.atMs ?? (status === 'firing' ? T0 : T0 + 60_000);
  return {
    id,
    status,
    atMs,
    seq: o.seq ?? (status === 'firing' ? 0 : 1),
    alert: {
      kind,
      severity: o.severity ?? 'critical',
      tenant,
      subject,
      summary: `link ${subject} seen in 3 tasks`,
      taskId: 'task-1',
      human: 'alice@acme.example',
      agents: o.agents ?? ['spiffe://acme.example/agent/planner'],
      chainHash: 'c0ffee',
      traceId: 'a'.repeat(32),
      windowStartMs: 0,
      firstSeenMs: T0,
      lastSeenMs: T0 + 1000,
      count: 3,
      resolvedBy: status === 'resolved' ? 'bob@acme.example' : '',
      resolvedAtMs: status === 'resolved' ? atMs : 0,
      resolution: status === 'resolved' ? 'rotated the key' : '',
      evidence: { spanIds: ['s1', 's2'], linkIds: o.linkIds ?? [subject], facts: o.facts ?? { tasks: 3 } },
    },
  };
}

/** `n` distinct alerts, each firing then resolving: 2n changes. */
export function firingAndResolved(n: number, prefix = 'jti'): AlertChange[] {
  const out: AlertChange[] = [];
  for (let i = 0; i < n; i++) {
    out.push(change({ subject: `${prefix}-${i}`, atMs: T0 + i }));
    out.push(change({ subject: `${prefix}-${i}`, status: 'resolved', atMs: T0 + 100_000 + i }));
  }
  return out;
}
