/**
 * The engine the pipeline holds: the current compiled policy, swapped
 * atomically on reload, and a cache of chain judgements keyed by the policy's
 * revision and the chain's identity. A decision made under one revision is
 * never served under another: the key carries the revision, and a swap also
 * drops the cache.
 *
 * Cache keys trust `hash` to identify a link's content and `hash`+`verified`
 * an approval's, and the fast path trusts a `links` array not to change once
 * judged; both hold for inputs built by input.ts from verified (frozen) links.
 */
import { LRUCache } from 'lru-cache';
import type { CompiledPolicy } from './compile.js';
import { actionDecision, chainDecision, guarded, judgeChain, type ChainJudgement } from './engine.js';
import { type ActionPolicyInput, type ChainPolicyInput, type PolicyDecision } from './types.js';

/** What every policy engine offers the pipeline (built-in or OPA). */
export interface PolicyEvaluator {
  evaluateChain(input: ChainPolicyInput): PolicyDecision | Promise<PolicyDecision>;
  evaluateAction(input: ActionPolicyInput): PolicyDecision | Promise<PolicyDecision>;
}

export interface PolicyEngineStats {
  hits: number;
  misses: number;
  /** Times the policy was swapped (each drops the cache). */
  swaps: number;
}

function chainCacheKey(input: ChainPolicyInput): string | undefined {
  const links = input?.links;
  const approvals = input?.approvals;
  if (!Array.isArray(links) || !Array.isArray(approvals)) return undefined;
  let k = String(input.depth);
  for (const l of links) k += '|' + String((l as { hash?: unknown })?.hash);
  k += '#';
  for (const a of approvals) k += '|' + String((a as { hash?: unknown })?.hash) + (a?.verified === true ? '+' : '-');
  return k;
}

export class PolicyEngine implements PolicyEvaluator {
  readonly stats: PolicyEngineStats = { hits: 0, misses: 0, swaps: 0 };
  private current: CompiledPolicy;
  private readonly cache: LRUCache<string, ChainJudgement>;
  /**
   * Fast path: inputs from input.ts share one `links` array per cached chain,
   * so a judgement of a chain without approvals is found by that array.
   */
  private byLinks = new WeakMap<object, ChainJudgement>();

  constructor(policy: CompiledPolicy, opts: { cacheSize?: number } = {}) {
    this.current = policy;
    this.cache = new LRUCache({ max: opts.cacheSize ?? 20_000 });
  }

  get policy(): CompiledPolicy {
    return this.current;
  }

  /** Put a new policy in force; every later decision uses it. */
  swap(policy: CompiledPolicy): void {
    this.current = policy;
    this.cache.clear();
    this.byLinks = new WeakMap();
    this.stats.swaps++;
  }

  private judgement(input: ChainPolicyInput): ChainJudgement {
    const policy = this.current;
    const links = input?.links;
    const plain = Array.isArray(links) && Array.isArray(input.approvals) && input.approvals.length === 0;
    if (plain) {
      const hit = this.byLinks.get(links);
      if (hit !== undefined && hit.policy === policy && hit.depth === input.depth) {
        this.stats.hits++;
        return hit;
      }
    }
    const j = this.keyed(input, policy);
    if (plain && j.invalid.length === 0) this.byLinks.set(links, j);
    return j;
  }

  private keyed(input: ChainPolicyInput, policy: CompiledPolicy): ChainJudgement {
    const key = chainCacheKey(input);
    if (key === undefined) return judgeChain(policy, input);
    const full = policy.data.revision + key;
    const hit = this.cache.get(full);
    if (hit !== undefined) {
      this.stats.hits++;
      return hit;
    }
    this.stats.misses++;
    const j = judgeChain(policy, input);
    this.cache.set(full, j);
    return j;
  }

  evaluateChain(input: ChainPolicyInput): PolicyDecision {
    const policy = this.current;
    return guarded(policy, () => chainDecision(this.judgement(input)));
  }

  evaluateAction(input: ActionPolicyInput): PolicyDecision {
    return this.evaluate(input, input?.action);
  }

  /**
   * `evaluateAction` without building the combined input: the chain's input
   * (shared by its spans, see input.ts) and one action. Allowed actions get a
   * shared, frozen decision: treat decisions as read-only.
   */
  evaluate(chain: ChainPolicyInput, action: ActionPolicyInput['action']): PolicyDecision {
    const policy = this.current;
    return guarded(policy, () => actionDecision(this.judgement(chain), action));
  }
}
