/**
 * Policy violations (detector 6): every action whose verdict carries a
 * `policy.<rule>` reason raises (or updates) one alert per rule, agent and
 * task; each span counts once. Severity per rule from the configuration. Pure.
 */
import type { ActionRow } from '../../correlate/rows.js';
import type { AlertSignal } from '../alert.js';
import type { DetectionInput, DetectorOutput, StreamingDetector } from '../detector.js';
import { tenantOfAgent } from '../tenant.js';
import type { PolicyViolationConfig } from './config.js';

const PREFIX = 'policy.';

export function violationSignals(row: ActionRow, config: PolicyViolationConfig): AlertSignal[] {
  const out: AlertSignal[] = [];
  for (let i = 0; i < row.reasons.length; i++) {
    const code = row.reasons[i]!;
    if (!code.startsWith(PREFIX)) continue;
    const rule = code.slice(PREFIX.length);
    const detail = row.reason_details[i] ?? '';
    out.push({
      kind: 'policy.violation',
      severity: config.rules.get(rule) ?? config.severity,
      tenant: tenantOfAgent(row.agent_id),
      subject: `rule ${rule} by ${row.agent_id} in task ${row.task_id}`,
      windowStartMs: 0,
      eventKey: `${row.trace_id}/${row.span_id}`,
      observedAtMs: row.received_at,
      taskId: row.task_id,
      human: row.root_human,
      agents: [row.agent_id],
      chainHash: row.chain_hash,
      traceId: row.trace_id,
      summary: `${row.agent_id || '(no agent)'} broke policy rule ${rule}${detail ? `: ${detail}` : ''}`,
      evidence: {
        spanIds: [row.span_id],
        linkIds: [],
        facts: { rule, detail, operation: row.operation, tool: row.tool_name, resource: row.resource, scopesUsed: row.scopes_used },
      },
    });
  }
  return out;
}

export class PolicyViolationDetector implements StreamingDetector {
  readonly name = 'policy.violation';

  constructor(private readonly config: PolicyViolationConfig) {}

  observe(input: DetectionInput): DetectorOutput {
    const signals: AlertSignal[] = [];
    for (const row of input.actions) {
      if (row.verdict !== 'failed' || row.reasons.length === 0) continue;
      for (const s of violationSignals(row, this.config)) signals.push(s);
    }
    return { signals };
  }
}
