/**
 * The verified chains of a batch that a chain detector needs to look at.
 * Most spans reuse a chain already judged, so each chain (by hash) is looked
 * at once per interval per processor: a hot chain costs one cache lookup per
 * span, and its values' last-seen times are still refreshed well inside
 * forget-after. Only verified actions pass (see paths/detector.ts for why).
 */
import { LRUCache } from 'lru-cache';
import type { ActionRow } from '../../correlate/rows.js';
import type { AgentTyping } from './agent-type.js';
import { viewChain, type ChainView } from './chain-view.js';

const RETOUCH_MAX_MS = 3_600_000;

export class FreshChains {
  /** Chain hash → when it was last let through. */
  private readonly seen: LRUCache<string, number>;
  private readonly retouchMs: number;

  constructor(
    forgetAfterMs: number,
    private readonly typing: AgentTyping,
    max = 50_000,
  ) {
    this.seen = new LRUCache<string, number>({ max });
    this.retouchMs = Math.min(RETOUCH_MAX_MS, Math.floor(forgetAfterMs / 10));
  }

  /** Each verified action whose chain was not let through within the interval, with its view. */
  *of(actions: readonly ActionRow[], now: number): Generator<{ action: ActionRow; view: ChainView }> {
    for (const action of actions) {
      if (action.verdict !== 'verified' || action.chain_path.length < 2) continue;
      if (action.chain_hash !== '') {
        const at = this.seen.get(action.chain_hash);
        if (at !== undefined && now - at >= 0 && now - at < this.retouchMs) continue;
        this.seen.set(action.chain_hash, now);
      }
      const view = viewChain(action.chain_path, this.typing);
      if (view !== undefined) yield { action, view };
    }
  }
}
