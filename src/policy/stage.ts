/**
 * The policy stage: after verification, before correlation, so a rule's
 * violation is on the verdict the action row is built from. Every decision
 * (allow or deny) is a row of the decision log; a deny adds one
 * `policy.<rule id>` reason per violation to the span's verdict.
 *
 * With the built-in engine a batch is judged synchronously; with an engine
 * that answers asynchronously (OPA) at most `concurrency` questions are in
 * flight per batch, and rows are emitted in span order once all answered.
 */
import { nsToDateTime64 } from '../correlate/time.js';
import { rowKind, type SpanBatch, type Stage } from '../pipeline/stage.js';
import type { DecisionRow } from './decision-log.js';
import type { Judged, SpanPolicy } from './span-policy.js';
import type { ChainPolicyInput, PolicyDecision } from './types.js';

type DecisionParts = Pick<DecisionRow, 'policy_version' | 'revision' | 'result' | 'rules' | 'reason_codes' | 'reason_details' | 'reason_links'>;

/** One row per decision: the `policy_decisions` table. */
export const POLICY_DECISIONS = rowKind<DecisionRow>('policy_decisions');

export class PolicyStage implements Stage {
  readonly name = 'policy';
  /** Row parts shared by every span with the same decision object, or the same chain input (weakly held). */
  private readonly byDecision = new WeakMap<PolicyDecision, DecisionParts>();
  private readonly byChain = new WeakMap<ChainPolicyInput, { linkHashes: string[]; text: string }>();

  constructor(
    private readonly policy: SpanPolicy,
    private readonly concurrency = 32,
  ) {}

  process(batch: SpanBatch): void | Promise<void> {
    if (!this.policy.synchronous) return this.processAsync(batch);
    const { spans, details } = batch;
    for (let i = 0; i < spans.length; i++) {
      const judged = this.policy.judge(spans[i]!, details[i]!.check) as Judged | null;
      // No usable chain: verification already failed the span; there is nothing to judge.
      if (judged !== null) this.record(batch, i, judged);
    }
  }

  private async processAsync(batch: SpanBatch): Promise<void> {
    const { spans, details } = batch;
    const judged = new Array<Judged | null>(spans.length);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < spans.length; i = next++) judged[i] = await this.policy.judge(spans[i]!, details[i]!.check);
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, spans.length) }, worker));
    for (let i = 0; i < spans.length; i++) if (judged[i] != null) this.record(batch, i, judged[i]!);
  }

  private record(batch: SpanBatch, i: number, judged: Judged): void {
    const span = batch.spans[i]!;
    const { decision: d, chain, action } = judged;
    for (const r of d.reasons) batch.addReason(i, { code: r.code, ...(r.link !== undefined ? { link: r.link } : {}), message: r.message });
    // What every span of a chain, or every span with the same decision, shares is built once (allowed
    // actions share one frozen decision, chains without approvals one input): the rest is per span.
    const verdict = this.decisionParts(d);
    const shared = this.chainParts(chain);
    batch.emit(POLICY_DECISIONS, {
      // Derived from the span and the policy revision: a re-delivered span folds into the same row,
      // a re-judgement under another policy is a row of its own.
      decision_id: `${span.traceId}-${span.spanId}-${d.revision.slice(0, 16)}`,
      ts: nsToDateTime64(span.startNs),
      task_id: span.taskId,
      trace_id: span.traceId,
      span_id: span.spanId,
      agent_id: span.agentId,
      kind: 'action',
      ...verdict,
      link_hashes: shared.linkHashes,
      input: `{"action":${JSON.stringify(action)},"chain":${shared.text}}`,
    }, i);
  }

  private decisionParts(d: PolicyDecision): DecisionParts {
    let parts = this.byDecision.get(d);
    if (parts === undefined) {
      parts = {
        policy_version: d.policyVersion,
        revision: d.revision,
        result: d.result,
        rules: d.rules,
        reason_codes: d.reasons.map((r) => r.code),
        reason_details: d.reasons.map((r) => r.message),
        reason_links: d.reasons.map((r) => r.link ?? -1),
      };
      this.byDecision.set(d, parts);
    }
    return parts;
  }

  private chainParts(chain: ChainPolicyInput): { linkHashes: string[]; text: string } {
    let parts = this.byChain.get(chain);
    if (parts === undefined) {
      parts = { linkHashes: chain.links.map((l) => l.hash), text: JSON.stringify({ depth: chain.depth, links: chain.links, approvals: chain.approvals }) };
      this.byChain.set(chain, parts);
    }
    return parts;
  }
}
