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
import type { ActionPolicyInput, PolicyApproval, PolicyDecision } from './types.js';

/** A decision with the input it was made on (what the decision log records). */
export interface Judged {
  decision: PolicyDecision;
  input: ActionPolicyInput;
}

export class SpanPolicy {
  private readonly approvals = new LRUCache<string, PolicyApproval>({ max: 10_000 });
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
    const input = { ...chain, action };
    if (this.engine instanceof PolicyEngine) return { decision: this.engine.evaluate(chain, action), input };
    const d = this.engine.evaluateAction(input);
    if (!(d instanceof Promise)) return { decision: d, input };
    // An engine that fails gives a deny, never an allow nor a failed batch.
    return d.then(
      (decision) => ({ decision, input }),
      (e: unknown) => ({ decision: unavailable(`the engine failed: ${(e as Error)?.message ?? String(e)}`), input }),
    );
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
