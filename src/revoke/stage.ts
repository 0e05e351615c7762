/**
 * The revocation stage: after verification, each span's chain against the
 * revocations in force, and one `chain_links` row per chain not yet stored
 * (what blast radius reads to find every chain holding a link).
 */
import { LRUCache } from 'lru-cache';
import { rowKind, type SpanBatch, type Stage } from '../pipeline/stage.js';
import { revocationReasons, type RevocationHit, type RevocationSet } from './revocation-set.js';

export interface ChainLinksRow {
  chain_hash: string;
  task_id: string;
  link_hashes: string[];
  first_seen: number;
}

export const CHAIN_LINKS = rowKind<ChainLinksRow>('chain_links');

export class RevocationStage implements Stage {
  readonly name = 'revocation';
  /** Chain hash → the revocations covering it, for one set version: a new version empties it. */
  private readonly hits = new LRUCache<string, RevocationHit[]>({ max: 20_000 });
  private hitsVersion = -1;
  /** Chains whose links row the store acknowledged. */
  private readonly stored_ = new LRUCache<string, true>({ max: 50_000 });
  /** Chains emitted per batch, marked stored only once the batch is. */
  private readonly pending = new WeakMap<SpanBatch, string[]>();

  constructor(private readonly revocations: () => RevocationSet) {}

  process(batch: SpanBatch): void {
    const set = this.revocations();
    if (set.version !== this.hitsVersion) {
      this.hits.clear();
      this.hitsVersion = set.version;
    }
    const { spans, details } = batch;
    let emitted: Set<string> | undefined;
    for (let i = 0; i < spans.length; i++) {
      const d = details[i]!;
      const links = d.check?.links;
      if (links === undefined || links.length === 0) continue;
      if (set.size > 0) {
        let hits = this.hits.get(d.chainHash);
        if (hits === undefined) {
          hits = set.covering(links);
          this.hits.set(d.chainHash, hits);
        }
        if (hits.length > 0) for (const r of revocationReasons(hits, spans[i]!.startMs)) batch.addReason(i, r);
      }
      if (!this.stored_.has(d.chainHash) && !(emitted ??= new Set()).has(d.chainHash)) {
        emitted.add(d.chainHash);
        batch.emit(CHAIN_LINKS, { chain_hash: d.chainHash, task_id: links[0]!.claims.task, link_hashes: links.map((l) => l.hash), first_seen: batch.nowMs }, i);
      }
    }
    if (emitted !== undefined) this.pending.set(batch, [...emitted]);
  }

  stored(batch: SpanBatch): void {
    for (const h of this.pending.get(batch) ?? []) this.stored_.set(h, true);
  }
}
