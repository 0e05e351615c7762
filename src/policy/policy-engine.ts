/**
 * The engine the pipeline holds: the current compiled policy, swapped
 * atomically on reload, and a cache of chain judgements keyed by the policy's
 * revision and the chain's identity. A decision made under one revision is
 * never served under another: the key carries the revision, and a swap also
 * drops the cache.
 *
 * Cache keys trust `hash` to identify a link's content and `hash`+`verified`
 * an approval's, which holds for inputs built by input.ts from verified links.
 */
import { LRUCache } from 'lru-cache';
import type { CompiledPolicy } from './compile.js';
import { actionDecision, chainDecision, guarded, judgeChain, type ChainJudgement } from './engine.js';
import { actionPartProblems } from './input-shape.js';
import { INPUT_INVALID, type ActionPolicyInput, type ChainPolicyInput, type PolicyDecision } from './types.js';

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
    this.stats.swaps++;
  }

  private judgement(input: ChainPolicyInput): ChainJudgement {
    const policy = this.current;
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
    const policy = this.current;
    return guarded(policy, () => {
      const j = this.judgement(input);
      const problems = actionPartProblems(input.action);
      if (problems.length > 0 || j.invalid.length > 0) {
        return chainDecision({ ...j, invalid: [...j.invalid, ...problems], applied: new Set([INPUT_INVALID]) });
      }
      return actionDecision(j, input.action);
    });
  }
}
