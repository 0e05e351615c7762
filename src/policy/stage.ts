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
import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { nsToDateTime64 } from '../correlate/time.js';
import { rowKind, type SpanBatch, type Stage } from '../pipeline/stage.js';
import type { DecisionRow } from './decision-log.js';
import type { Judged, SpanPolicy } from './span-policy.js';
import type { ChainPolicyInput } from './types.js';

/** One row per decision: the `policy_decisions` table. */
export const POLICY_DECISIONS = rowKind<DecisionRow>('policy_decisions');

export class PolicyStage implements Stage {
  readonly name = 'policy';
  /** The chain part of the logged input, serialised once per chain (it is the bulk of the row). */
  private readonly chainJson = new LRUCache<string, string>({ max: 20_000 });

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
    const { decision: d, input } = judged;
    for (const r of d.reasons) batch.addReason(i, { code: r.code, ...(r.link !== undefined ? { link: r.link } : {}), message: r.message });
    batch.emit(POLICY_DECISIONS, {
      // Derived from the span and the policy revision: a re-delivered span folds into the same row,
      // a re-judgement under another policy is a row of its own.
      decision_id: decisionId(d.revision, span.traceId, span.spanId),
      ts: nsToDateTime64(span.startNs),
      task_id: span.taskId,
      trace_id: span.traceId,
      span_id: span.spanId,
      agent_id: span.agentId,
      kind: 'action',
      policy_version: d.policyVersion,
      revision: d.revision,
      result: d.result,
      rules: d.rules,
      reason_codes: d.reasons.map((r) => r.code),
      reason_details: d.reasons.map((r) => r.message),
      reason_links: d.reasons.map((r) => r.link ?? -1),
      link_hashes: input.links.map((l) => l.hash),
      input: `{"action":${JSON.stringify(input.action)},"chain":${this.chainText(batch.details[i]!.chainHash, input)}}`,
    }, i);
  }

  private chainText(chainHash: string, input: ChainPolicyInput): string {
    const key = chainHash + '|' + input.approvals.length;
    let text = this.chainJson.get(key);
    if (text === undefined || input.approvals.length > 0) {
      text = JSON.stringify({ depth: input.depth, links: input.links, approvals: input.approvals });
      if (input.approvals.length === 0) this.chainJson.set(key, text);
    }
    return text;
  }
}

function decisionId(revision: string, traceId: string, spanId: string): string {
  const h = hash('sha256', `${revision}\0${traceId}\0${spanId}`, 'hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
