/**
 * The verified chains of a batch that a chain detector needs to look at.
 * What the detectors judge depends only on a chain's path (its principals),
 * so each path is looked at once per interval per processor, and its
 * values' last-seen times are still refreshed well inside forget-after. Most
 * spans reuse a chain already seen (one hash lookup); a new task mints new
 * links, so a new hash, but usually along a path already seen (one more
 * lookup, by the path). Only verified actions pass (see paths/detector.ts).
 */
import { LRUCache } from 'lru-cache';
import type { ActionRow } from '../../correlate/rows.js';
import type { AgentTyping } from './agent-type.js';
import { viewChain, type ChainView } from './chain-view.js';

const RETOUCH_MAX_MS = 3_600_000;

export class FreshChains {
  /** Chain hash → when it was last let through. */
  private readonly seen: LRUCache<string, number>;
  /** Chain path (joined) → when it was last let through. */
  private readonly paths: LRUCache<string, number>;
  private readonly retouchMs: number;

  constructor(
    forgetAfterMs: number,
    private readonly typing: AgentTyping,
    max = 50_000,
  ) {
    this.seen = new LRUCache<string, number>({ max });
    // A joined path can reach 64 KiB (32 IDs of 2 KiB): bounded by total length too.
    this.paths = new LRUCache<string, number>({ max, maxSize: max * 512, sizeCalculation: (_v, k) => k.length + 1 });
    this.retouchMs = Math.min(RETOUCH_MAX_MS, Math.floor(forgetAfterMs / 10));
  }

  /** Each verified action whose chain was not let through within the interval, with its view. */
  *of(actions: readonly ActionRow[], now: number): Generator<{ action: ActionRow; view: ChainView }> {
    for (const action of actions) {
      if (action.verdict !== 'verified' || action.chain_path.length < 2) continue;
      if (action.chain_hash !== '') {
        if (this.recent(this.seen, action.chain_hash, now)) continue;
        this.seen.set(action.chain_hash, now);
      }
      // NUL cannot occur in a principal of a verified chain.
      const pathKey = action.chain_path.join('\u0000');
      if (this.recent(this.paths, pathKey, now)) continue;
      this.paths.set(pathKey, now);
      const view = viewChain(action.chain_path, this.typing);
      if (view !== undefined) yield { action, view };
    }
  }

  private recent(cache: LRUCache<string, number>, key: string, now: number): boolean {
    const at = cache.get(key);
    return at !== undefined && now - at >= 0 && now - at < this.retouchMs;
  }
}
