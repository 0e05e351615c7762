/**
 * What the pipeline's policy stage calls per span: from the verifier's
 * detail (the chain's check) and the span to a policy decision. Approvals on
 * the span are verified once per (approval, chain) and cached until the trust
 * store reloads; chains without approvals share one engine input.
 */
import { LRUCache } from 'lru-cache';
import type { ChainCheck } from '../model/delegation.js';
import type { AgentSpan } from '../model/span.js';
import type { TrustStore } from '../verify/trust-store.js';
import { verifyApprovals } from './approval.js';
import { approvalTokensOf, chainInput } from './input.js';
import type { PolicyEngine } from './policy-engine.js';
import type { ActionPolicyInput, PolicyApproval, PolicyDecision } from './types.js';

export class SpanPolicy {
  private readonly approvals = new LRUCache<string, PolicyApproval>({ max: 10_000 });
  private generation: number;

  constructor(
    private readonly engine: PolicyEngine,
    private readonly trust: TrustStore,
  ) {
    this.generation = trust.generation;
  }

  /**
   * The decision for one span whose chain the verifier checked; null when the
   * span carries no usable chain (the verifier's verdict already fails it).
   */
  decide(span: AgentSpan, check: ChainCheck | null): PolicyDecision | null {
    return this.judge(span, check)?.decision ?? null;
  }

  /** The decision with the input it was made on (what the decision log records). */
  judge(span: AgentSpan, check: ChainCheck | null): { decision: PolicyDecision; input: ActionPolicyInput } | null {
    if (check === null || span.chain === null) return null;
    const tokens = approvalTokensOf(span);
    const approvals = tokens.length === 0 ? [] : this.verified(tokens, check);
    const chain = chainInput(check, span.chain.length, approvals);
    const action = { agent: span.agentId, scopes: span.scopesUsed, atMs: span.startMs };
    return { decision: this.engine.evaluate(chain, action), input: { ...chain, action } };
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
