import { LRUCache } from 'lru-cache';
import type { AgentSpan } from '../model/span.js';
import type { ChainCheck } from '../model/delegation.js';
import type { SpanDetail } from '../verify/index.js';
import type { ActionRow, DelegationRow } from '../correlate/rows.js';
import { toActionRow, toDelegationRows } from '../correlate/correlate.js';
import type { IngestResult, SpanSink } from './types.js';

/**
 * What verification tells the pipeline about one span: the verifier's own
 * detail (verdict, summary, chain hash, check, cache hit). Synchronous when the
 * chain is cached, so the hot path never waits on a microtask.
 */
export type VerifyFn = (span: AgentSpan) => SpanDetail | Promise<SpanDetail>;

export interface RowWriter<Row> {
  write(rows: Row[]): Promise<void>;
}

export interface ProcessedBatch {
  actions: ActionRow[];
  delegations: DelegationRow[];
  newLinks: string[];
  verified: number;
  failed: number;
  cacheHits: number;
  reasons: Map<string, number>;
}

export interface ProcessorObserver {
  onBatch(batch: ProcessedBatch): void;
}

/**
 * decode → verify → correlate → store, shared by every source (OTLP/HTTP,
 * Kafka). `ingest` resolves only when ClickHouse has acknowledged the rows.
 */
export class Processor implements SpanSink {
  /** Links already stored by this process: their rows need not be written again. */
  private readonly storedLinks = new LRUCache<string, true>({ max: 200_000 });

  constructor(
    private readonly verify: VerifyFn,
    private readonly actions: RowWriter<ActionRow>,
    private readonly delegations: RowWriter<DelegationRow>,
    private readonly observer?: ProcessorObserver,
  ) {}

  /** The pure part: verdicts and rows for a batch, nothing written. */
  async process(spans: AgentSpan[], nowMs = Date.now()): Promise<ProcessedBatch> {
    const out: ProcessedBatch = { actions: new Array<ActionRow>(spans.length), delegations: [], newLinks: [], verified: 0, failed: 0, cacheHits: 0, reasons: new Map() };
    const seenChains = new Set<string>();
    for (let i = 0; i < spans.length; i++) {
      const span = spans[i]!;
      let v = this.verify(span);
      if (v instanceof Promise) v = await v;
      out.actions[i] = toActionRow(span, v.verdict, v.summary, v.chainHash, nowMs);
      if (v.cacheHit) out.cacheHits++;
      if (v.verdict.status === 'verified') out.verified++;
      else {
        out.failed++;
        for (const r of v.verdict.reasons) out.reasons.set(r.code, (out.reasons.get(r.code) ?? 0) + 1);
      }
      if (v.check && v.chainHash && !seenChains.has(v.chainHash)) {
        seenChains.add(v.chainHash);
        this.collectLinks(v.check, nowMs, out);
      }
    }
    return out;
  }

  async ingest(spans: AgentSpan[]): Promise<IngestResult> {
    if (spans.length === 0) return { accepted: 0, rejected: 0, errors: [] };
    const batch = await this.process(spans);
    const writes: Promise<void>[] = [this.actions.write(batch.actions)];
    if (batch.delegations.length > 0) writes.push(this.delegations.write(batch.delegations));
    await Promise.all(writes);
    // Only now are the links stored; a failed write leaves them to be written on retry.
    for (const h of batch.newLinks) this.storedLinks.set(h, true);
    this.observer?.onBatch(batch);
    return { accepted: spans.length, rejected: 0, errors: [] };
  }

  private collectLinks(check: ChainCheck, nowMs: number, out: ProcessedBatch): void {
    let anyNew = false;
    for (const l of check.links) if (!this.storedLinks.has(l.hash)) { anyNew = true; break; }
    if (!anyNew) return;
    for (const row of toDelegationRows(check, nowMs)) {
      if (this.storedLinks.has(row.link_hash) || out.newLinks.includes(row.link_hash)) continue;
      out.delegations.push(row);
      out.newLinks.push(row.link_hash);
    }
  }
}
