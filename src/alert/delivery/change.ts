/**
 * What the outbox is fed: an alert that fired (first time, or again after
 * being resolved) or resolved, with the alert as it stood at that moment.
 * The alert store's change feed produces these; the outbox turns each into
 * one notification per destination. Specified in schemas/alert-delivery.md.
 */
import { createHash } from 'node:crypto';
import { ALERT_KINDS, SEVERITIES, type AlertEvidence, type AlertKind, type Severity } from '../../detect/alert.js';

export const CHANGE_STATUSES = ['firing', 'resolved'] as const;
export type ChangeStatus = (typeof CHANGE_STATUSES)[number];

/** The alert as the sinks render it (times in ms; 0 when absent). */
export interface AlertSnapshot {
  kind: AlertKind;
  severity: Severity;
  tenant: string;
  subject: string;
  summary: string;
  taskId: string;
  human: string;
  agents: string[];
  chainHash: string;
  traceId: string;
  windowStartMs: number;
  firstSeenMs: number;
  lastSeenMs: number;
  count: number;
  resolvedBy: string;
  resolvedAtMs: number;
  resolution: string;
  evidence: AlertEvidence;
}

export interface AlertChange {
  /** The alert's derived id (detect/alert.ts alertId). */
  id: string;
  status: ChangeStatus;
  /** When the transition happened (ms): the firing's first trigger, or the resolution. */
  atMs: number;
  /** The transition's number for this alert (0 the first firing, then one more per reopen or resolution), when the store counts them. */
  seq: number;
  alert: AlertSnapshot;
}

/** Where changes come from: the alert store's change feed, polled from a cursor. */
export interface AlertChangeSource {
  changesSince(cursor: string, limit: number): Promise<{ changes: AlertChange[]; cursor: string }>;
}

/**
 * The idempotency key of a change: the same transition of the same alert
 * gets the same key on every processor, restart and redelivery, so the
 * outbox holds it once and a receiver can drop a duplicate. 32 hex of
 * SHA-256 over length-prefixed fields.
 */
export function idempotencyKey(c: Pick<AlertChange, 'id' | 'status' | 'atMs' | 'seq'>): string {
  const h = createHash('sha256');
  for (const part of ['chainsight.alert.v1', c.id, c.status, String(c.atMs), String(c.seq)]) {
    const b = Buffer.from(part, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    h.update(len).update(b);
  }
  return h.digest('hex').slice(0, 32);
}

const ID = /^[0-9a-f]{32}$/;

function str(o: Record<string, unknown>, k: string, problems: string[]): string {
  const v = o[k];
  if (typeof v === 'string') return v;
  problems.push(`${k} must be a string`);
  return '';
}

function num(o: Record<string, unknown>, k: string, problems: string[]): number {
  const v = o[k];
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  problems.push(`${k} must be a non-negative integer`);
  return 0;
}

function evidenceOf(v: unknown, problems: string[]): AlertEvidence {
  const e = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const list = (x: unknown): string[] => (Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : []);
  const facts: AlertEvidence['facts'] = {};
  if (typeof e.facts === 'object' && e.facts !== null && !Array.isArray(e.facts)) {
    for (const [k, f] of Object.entries(e.facts as Record<string, unknown>)) {
      if (typeof f === 'string' || typeof f === 'number' || typeof f === 'boolean') facts[k] = f;
      else if (Array.isArray(f)) facts[k] = list(f);
    }
  } else if (e.facts !== undefined) problems.push('evidence.facts must be an object');
  return { spanIds: list(e.spanIds), linkIds: list(e.linkIds), facts };
}

/**
 * Reads a change back from its stored JSON. The outbox row was written by
 * us, but the store is shared: a row that does not parse is reported, never
 * delivered half-formed.
 * @throws Error listing every problem
 */
export function parseChange(json: string): AlertChange {
  const o = JSON.parse(json) as unknown;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Error('an alert change must be an object');
  const c = o as Record<string, unknown>;
  const problems: string[] = [];
  const id = str(c, 'id', problems);
  if (id !== '' && !ID.test(id)) problems.push('id must be 32 hex characters');
  const status = c.status;
  if (!(CHANGE_STATUSES as readonly unknown[]).includes(status)) problems.push('status must be firing or resolved');
  const atMs = num(c, 'atMs', problems);
  const seq = num(c, 'seq', problems);
  const a = (typeof c.alert === 'object' && c.alert !== null ? c.alert : {}) as Record<string, unknown>;
  if (!(ALERT_KINDS as readonly unknown[]).includes(a.kind)) problems.push('alert.kind is not a known kind');
  if (!(SEVERITIES as readonly unknown[]).includes(a.severity)) problems.push('alert.severity is not a known severity');
  const alert: AlertSnapshot = {
    kind: a.kind as AlertKind,
    severity: a.severity as Severity,
    tenant: str(a, 'tenant', problems),
    subject: str(a, 'subject', problems),
    summary: str(a, 'summary', problems),
    taskId: str(a, 'taskId', problems),
    human: str(a, 'human', problems),
    agents: Array.isArray(a.agents) ? a.agents.filter((s): s is string => typeof s === 'string') : [],
    chainHash: str(a, 'chainHash', problems),
    traceId: str(a, 'traceId', problems),
    windowStartMs: num(a, 'windowStartMs', problems),
    firstSeenMs: num(a, 'firstSeenMs', problems),
    lastSeenMs: num(a, 'lastSeenMs', problems),
    count: num(a, 'count', problems),
    resolvedBy: str(a, 'resolvedBy', problems),
    resolvedAtMs: num(a, 'resolvedAtMs', problems),
    resolution: str(a, 'resolution', problems),
    evidence: evidenceOf(a.evidence, problems),
  };
  if (problems.length > 0) throw new Error(`invalid alert change: ${problems.join('; ')}`);
  return { id, status: status as ChangeStatus, atMs, seq, alert };
}
