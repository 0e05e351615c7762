/**
 * What the pipeline's policy stage calls per span: from the verifier's
 * detail (the chain's check) and the span to a policy decision. Approvals on
 * the span are verified once per (approval, chain) and cached until the trust
 * store reloads; chains without approvals share one engine input.
 *
 * The engine is the built-in one (synchronous: judgements stay on the
 * pipeline's synchronous path) or any other evaluator, such as OPA, whose
 * answers may be promises.
 */
import { LRUCache } from 'lru-cache';
import type { ChainCheck } from '../model/delegation.js';
import type { AgentSpan } from '../model/span.js';
import type { TrustStore } from '../verify/trust-store.js';
import { verifyApprovals } from './approval.js';
import { approvalTokensOf, chainInput } from './input.js';
import { unavailable } from './opa-client.js';
import { PolicyEngine, type PolicyEvaluator } from './policy-engine.js';
import type { ActionPolicyInput, ChainPolicyInput, PolicyApproval, PolicyDecision } from './types.js';
import type { CompiledPolicy } from './compile.js';

/** A decision with the input it was made on (what the decision log records): the chain's part is shared by its spans. */
export interface Judged {
  decision: PolicyDecision;
  chain: ChainPolicyInput;
  action: ActionPolicyInput['action'];
}

export class SpanPolicy {
  private readonly approvals = new LRUCache<string, PolicyApproval>({ max: 10_000 });
  private readonly actions = new WeakMap<ChainPolicyInput, { policy: CompiledPolicy; decisions: Map<string, PolicyDecision> }>();
  private generation: number;

  constructor(
    private readonly engine: PolicyEngine | PolicyEvaluator,
    private readonly trust: TrustStore,
  ) {
    this.generation = trust.generation;
  }

  /**
   * The decision for one span whose chain the verifier checked; null when the
   * span carries no usable chain (the verifier's verdict already fails it).
   */
  decide(span: AgentSpan, check: ChainCheck | null): PolicyDecision | null {
    const j = this.judge(span, check);
    if (j instanceof Promise) throw new Error('decide() needs a synchronous engine: use judge()');
    return j?.decision ?? null;
  }

  /** Whether every judgement is made synchronously (the built-in engine). */
  get synchronous(): boolean {
    return this.engine instanceof PolicyEngine;
  }

  /** The decision with the input it was made on; a promise when the engine answers asynchronously. */
  judge(span: AgentSpan, check: ChainCheck | null): Judged | Promise<Judged> | null {
    if (check === null || span.chain === null) return null;
    const tokens = approvalTokensOf(span);
    const approvals = tokens.length === 0 ? [] : this.verified(tokens, check);
    const chain = chainInput(check, span.chain.length, approvals);
    const action = { agent: span.agentId, scopes: span.scopesUsed, atMs: span.startMs };
    if (this.engine instanceof PolicyEngine) return { decision: this.builtIn(this.engine, chain, action), chain, action };
    const d = this.engine.evaluateAction({ ...chain, action });
    if (!(d instanceof Promise)) return { decision: d, chain, action };
    // An engine that fails gives a deny, never an allow nor a failed batch.
    return d.then(
      (decision) => ({ decision, chain, action }),
      (e: unknown) => ({ decision: unavailable(`the engine failed: ${(e as Error)?.message ?? String(e)}`), chain, action }),
    );
  }

  /**
   * The built-in engine's decision, memoised per chain input and (agent, scopes used) when the
   * chain carries no approvals: then the action's time plays no part (schemas/policy.md), so every
   * such action of a chain gets the same decision. A policy swap starts a new memo.
   */
  private builtIn(engine: PolicyEngine, chain: ChainPolicyInput, action: ActionPolicyInput['action']): PolicyDecision {
    if (chain.approvals.length > 0) return engine.evaluate(chain, action);
    let memo = this.actions.get(chain);
    if (memo === undefined || memo.policy !== engine.policy) {
      memo = { policy: engine.policy, decisions: new Map() };
      this.actions.set(chain, memo);
    }
    // JSON keeps the key unambiguous whatever characters a hostile agent id or scope holds.
    const key = JSON.stringify([action.agent, action.scopes]);
    let d = memo.decisions.get(key);
    if (d === undefined) {
      d = engine.evaluate(chain, action);
      // Bounded: a chain's actors and scope sets are few; a hostile variety just stops being memoised.
      if (memo.decisions.size < 256) memo.decisions.set(key, d);
    }
    return d;
  }

  private verified(tokens: string[], check: ChainCheck): PolicyApproval[] {
    if (this.trust.generation !== this.generation) {
      this.generation = this.trust.generation;
      this.approvals.clear();
    }
    // An approval's outcome depends on its text and on which links the chain holds.
    let links = '';
    for (const l of check.links) links += l.hash + l.trustDomain + ',';
    return tokens.map((t) => {
      const key = links + '|' + t;
      let a = this.approvals.get(key);
      if (a === undefined) {
        a = verifyApprovals([t], check.links, this.trust)[0] as PolicyApproval;
        this.approvals.set(key, a);
      }
      return a;
    });
  }
}
