/**
 * The alert store's change feed as delivery's change source: each firing
 * (first time or reopened) and each resolution becomes an AlertChange with
 * the alert's evidence; updates of an open alert (another trigger) notify
 * nobody. The store names each change by a key ending in the transition's
 * time (`<id>/firing/<opened ms>`, `<id>/resolved/<resolved ms>`): that time
 * is what makes the idempotency key, so a change read on two polls, or by
 * two processors, enqueues once.
 */
import type { AlertStore, AlertChange as StoreChange } from '../store.js';
import type { AlertChange, AlertChangeSource } from './change.js';

const KEY = /^([0-9a-f]{32})\/(firing|resolved)\/(\d{1,15})$/;

export interface ChangeFeedLogger {
  warn(obj: object, msg?: string): void;
}

const ms = (iso: string | null): number => (iso === null ? 0 : Date.parse(iso));

/** Conversions kept: the feed answers a change again on every poll within its overlap, and converting reads the alert's evidence and history. */
const MEMO_SIZE = 10_000;

export class AlertStoreChanges implements AlertChangeSource {
  private readonly memo = new Map<string, AlertChange>();

  constructor(
    private readonly store: AlertStore,
    private readonly logger: ChangeFeedLogger,
  ) {}

  async changesSince(cursor: string, limit: number): Promise<{ changes: AlertChange[]; cursor: string }> {
    const page = await this.store.changesSince(cursor === '' ? null : cursor, limit);
    const changes: AlertChange[] = [];
    for (const c of page.changes) {
      if (c.change === 'updated') continue;
      const converted = this.memo.get(c.key) ?? (await this.convert(c));
      if (converted === undefined) continue;
      changes.push(converted);
      this.remember(c.key, converted);
    }
    return { changes, cursor: page.cursor };
  }

  private remember(key: string, c: AlertChange): void {
    this.memo.delete(key);
    this.memo.set(key, c);
    // Maps iterate in insertion order: the first key is the least recently seen.
    if (this.memo.size > MEMO_SIZE) this.memo.delete(this.memo.keys().next().value!);
  }

  private async convert(c: StoreChange): Promise<AlertChange | undefined> {
    const m = KEY.exec(c.key);
    if (!m || m[1] !== c.alert.id || m[2] !== c.change) {
      this.logger.warn({ key: c.key.slice(0, 120) }, 'alert change with an unexpected key: not delivered');
      return undefined;
    }
    const status = m[2] as AlertChange['status'];
    const atMs = Number(m[3]);
    const detail = await this.store.get(c.alert.id);
    if (detail === undefined) return undefined;
    // The transition's number: two per earlier episode (its firing and its resolution), plus one if this is a resolution.
    const earlier = detail.history.filter((h) => h.state === 'resolved' && Date.parse(h.at) < atMs).length;
    const a = c.alert;
    const facts: AlertChange['alert']['evidence']['facts'] = {};
    for (const [k, v] of Object.entries(detail.evidence.facts)) {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') facts[k] = v;
      else if (Array.isArray(v)) facts[k] = v.map(String);
    }
    return {
      id: a.id,
      status,
      atMs,
      seq: 2 * earlier + (status === 'resolved' ? 1 : 0),
      alert: {
        kind: a.kind,
        severity: a.severity,
        tenant: a.tenant,
        subject: a.subject,
        summary: a.summary,
        taskId: a.taskId,
        human: a.human,
        agents: a.agents,
        chainHash: a.chainHash,
        traceId: a.traceId,
        windowStartMs: ms(a.windowStart),
        firstSeenMs: ms(a.firstSeen),
        lastSeenMs: ms(a.lastSeen),
        count: a.count,
        resolvedBy: a.resolvedBy ?? '',
        resolvedAtMs: ms(a.resolvedAt),
        resolution: a.resolution ?? '',
        evidence: { spanIds: detail.evidence.spanIds, linkIds: detail.evidence.linkIds, facts },
      },
    };
  }
}
