/**
 * A chain presented by an agent that is not its delegatee (detector 5b).
 * Verification already says so: `agent.mismatch` (the span's agent is not
 * the chain's last delegatee) and `agent.not_sender` (the proven sender of
 * the span is not the agent it claims to be). One alert per presenter and
 * whose identity it used; each span counts once. Pure.
 */
import type { ActionRow } from '../../correlate/rows.js';
import type { AlertSignal, Severity } from '../alert.js';
import type { DetectionInput, DetectorOutput, StreamingDetector } from '../detector.js';
import { tenantOfAgent } from '../tenant.js';

export interface NotDelegateeOptions {
  /** Overrides the defaults: high for agent.mismatch, critical for agent.not_sender. */
  severity?: Severity;
}

function reasonDetail(row: ActionRow, code: string): string {
  const i = row.reasons.indexOf(code);
  return i < 0 ? '' : (row.reason_details[i] ?? '');
}

export function notDelegateeSignals(row: ActionRow, opts: NotDelegateeOptions = {}): AlertSignal[] {
  const out: AlertSignal[] = [];
  const common = {
    kind: 'integrity.not_delegatee' as const,
    tenant: tenantOfAgent(row.agent_id),
    windowStartMs: 0,
    eventKey: `${row.trace_id}/${row.span_id}`,
    observedAtMs: row.received_at,
    taskId: row.task_id,
    human: row.root_human,
    chainHash: row.chain_hash,
    traceId: row.trace_id,
  };
  if (row.reasons.includes('agent.mismatch')) {
    const delegatee = row.chain_path[row.chain_path.length - 1] ?? '';
    out.push({
      ...common,
      // Presenting another agent's chain: a stolen or misrouted credential; its holder acted with rights it was never given.
      severity: opts.severity ?? 'high',
      subject: `${row.agent_id} presented the chain of ${delegatee}`,
      agents: delegatee === '' ? [row.agent_id] : [row.agent_id, delegatee],
      summary: `${row.agent_id || '(no agent)'} presented a chain delegated to ${delegatee || '(unknown)'}`,
      evidence: { spanIds: [row.span_id], linkIds: [], facts: { reason: 'agent.mismatch', detail: reasonDetail(row, 'agent.mismatch'), presenter: row.agent_id, delegatee, chainDepth: row.chain_depth } },
    });
  }
  if (row.reasons.includes('agent.not_sender')) {
    const sender = row.peer_id;
    out.push({
      ...common,
      // The sender proved another identity than the one it claims: impersonation with proof, the most direct sign of compromise.
      severity: opts.severity ?? 'critical',
      subject: `${sender} sent spans as ${row.agent_id}`,
      agents: sender === '' ? [row.agent_id] : [sender, row.agent_id],
      summary: `${sender || '(unproven sender)'} sent a span claiming to be ${row.agent_id || '(no agent)'}`,
      evidence: { spanIds: [row.span_id], linkIds: [], facts: { reason: 'agent.not_sender', detail: reasonDetail(row, 'agent.not_sender'), sender, claimed: row.agent_id } },
    });
  }
  return out;
}

export class NotDelegateeDetector implements StreamingDetector {
  readonly name = 'integrity.not_delegatee';

  constructor(private readonly opts: NotDelegateeOptions = {}) {}

  observe(input: DetectionInput): DetectorOutput {
    const signals: AlertSignal[] = [];
    for (const row of input.actions) {
      if (row.verdict !== 'failed') continue;
      for (const s of notDelegateeSignals(row, this.opts)) signals.push(s);
    }
    return { signals };
  }
}
