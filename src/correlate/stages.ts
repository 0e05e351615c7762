import { LRUCache } from 'lru-cache';
import type { ChainCheck } from '../model/delegation.js';
import { rowKind, type SpanBatch, type Stage } from '../pipeline/stage.js';
import { firstBadLink, toActionRow, toDelegationRows } from './correlate.js';
import type { ActionRow, DelegationRow } from './rows.js';

/** One row per span: the action with its final verdict. */
export const ACTIONS = rowKind<ActionRow>('actions', { perSpan: true });
/** One row per distinct delegation link. */
export const DELEGATIONS = rowKind<DelegationRow>('delegations');

/** Each span's action row, built from its verdict after every reason was added. */
export class ActionsStage implements Stage {
  readonly name = 'correlate.actions';

  process(batch: SpanBatch): void {
    const { spans, details, nowMs } = batch;
    for (let i = 0; i < spans.length; i++) {
      const d = details[i]!;
      batch.emit(ACTIONS, toActionRow(spans[i]!, batch.verdict(i), d.summary, d.chainHash, nowMs), i);
    }
  }
}

/**
 * Delegation rows for links this process has not stored yet with their
 * current validity. A link counts as stored only once its batch was
 * acknowledged, so a failed write leaves it to be written on retry; a link
 * whose validity changed (its key was removed, then a reload) is written
 * again, and the newer row wins in queries.
 */
export class DelegationsStage implements Stage {
  readonly name = 'correlate.delegations';
  /** Link hash → the validity last stored for it. */
  private readonly storedLinks = new LRUCache<string, boolean>({ max: 200_000 });

  process(batch: SpanBatch): void {
    const seenChains = new Set<string>();
    const queued = new Set<string>();
    const { details, nowMs } = batch;
    for (let i = 0; i < details.length; i++) {
      const d = details[i]!;
      if (d.check === null || d.chainHash === '' || seenChains.has(d.chainHash)) continue;
      seenChains.add(d.chainHash);
      if (!this.anyNew(d.check)) continue;
      for (const row of toDelegationRows(d.check, nowMs)) {
        if (this.storedLinks.get(row.link_hash) === row.valid || queued.has(row.link_hash)) continue;
        queued.add(row.link_hash);
        batch.emit(DELEGATIONS, row, i);
      }
    }
  }

  stored(batch: SpanBatch): void {
    for (const row of batch.rows(DELEGATIONS)) this.storedLinks.set(row.link_hash, row.valid);
  }

  /** Cheap pre-check before building rows: a link sound so far is valid unless a structural reason names it. */
  private anyNew(check: ChainCheck): boolean {
    const firstBad = firstBadLink(check);
    for (let i = 0; i < check.links.length; i++) if (this.storedLinks.get(check.links[i]!.hash) !== i < firstBad) return true;
    return false;
  }
}
