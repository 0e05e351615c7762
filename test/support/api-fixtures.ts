/**
 * Test helper: stored rows for the API's tenancy tests. Two trust domains,
 * co.example and partner.example; one task crosses both, one belongs to each,
 * and one action of the shared task names an agent that is no SPIFFE ID.
 */
import type { TestStore } from './store.js';
import { makeSpan } from './spans.js';
import { BatchWriter } from '../../src/store/writer.js';
import { toActionRow, toDelegationRows } from '../../src/correlate/correlate.js';
import type { ActionRow, DelegationRow } from '../../src/correlate/rows.js';
import type { DecisionRow } from '../../src/policy/decision-log.js';
import type { ChainCheck, ChainSummary } from '../../src/model/delegation.js';
import { VERIFIED, failed } from '../../src/model/verdict.js';

export const CO = 'co.example';
export const PARTNER = 'partner.example';
export const PLANNER = `spiffe://${CO}/agent/planning/p-1`;
export const INVENTORY = `spiffe://${CO}/agent/inventory/i-1`;
export const BILLING = `spiffe://${PARTNER}/agent/billing/b-1`;
export const TASK_SHARED = 'task-shared';
export const TASK_CO = 'task-co';
export const TASK_PARTNER = 'task-partner';
/** The span of the shared task's first planner action (it has a policy decision). */
export const SHARED_PLANNER_SPAN = '00000000000000a1';
/** Actions of TASK_CO: enough for several pages at limit=2. */
export const TASK_CO_ACTIONS = 5;

const summary = (path: string[]): ChainSummary => ({
  rootHuman: 'alice@co.example', rootIssuedAtMs: Date.UTC(2026, 2, 27, 13, 59, 0), purpose: 'quarterly review', depth: path.length - 1,
  path, delegator: path[path.length - 2]!, grantedScopes: ['ec2:Describe*'], linkHashes: path.slice(1).map((_, i) => `h${i}`),
});

export async function seedTenants(store: TestStore): Promise<void> {
  const db = store.config.database;
  const actions = new BatchWriter<ActionRow>(store.writer, `${db}.actions`, { maxRows: 1000, maxDelayMs: 5 });
  const links = new BatchWriter<DelegationRow>(store.writer, `${db}.delegations`, { maxRows: 1000, maxDelayMs: 5 });
  const now = Date.now();
  const rows: ActionRow[] = [];
  const act = (taskId: string, agentId: string, path: string[], startMs: number, bad = false, spanId?: string) =>
    rows.push(toActionRow(
      makeSpan({ taskId, agentId, agentName: '', startMs, endMs: startMs + 5, startNs: `${startMs}000000`, endNs: `${startMs + 5}000000`, ...(spanId ? { spanId } : {}) }),
      bad ? failed([{ code: 'scope.escalated', link: 1, message: 'wider than granted' }]) : VERIFIED,
      path.length ? summary(path) : null, `chain-${agentId}`, now,
    ));
  const t0 = Date.UTC(2026, 2, 27, 14, 0, 0);
  act(TASK_SHARED, PLANNER, ['alice@co.example', PLANNER], t0, false, SHARED_PLANNER_SPAN);
  act(TASK_SHARED, PLANNER, ['alice@co.example', PLANNER], t0 + 10);
  act(TASK_SHARED, BILLING, ['alice@co.example', PLANNER, BILLING], t0 + 20, true);
  act(TASK_SHARED, BILLING, ['alice@co.example', PLANNER, BILLING], t0 + 30);
  act(TASK_SHARED, 'rogue-agent', [], t0 + 40, true);
  // Equal timestamps: pages must still split on span_id without loss or repeat.
  for (let i = 0; i < TASK_CO_ACTIONS; i++) act(TASK_CO, INVENTORY, ['alice@co.example', PLANNER, INVENTORY], t0 + 1000 + Math.floor(i / 2));
  act(TASK_PARTNER, BILLING, ['bob@partner.example', BILLING], t0 + 2000);
  await actions.write(rows);
  // A policy decision per action of the shared task, on the action's agent.
  const decisions = new BatchWriter<DecisionRow>(store.writer, `${db}.policy_decisions`, { maxRows: 1000, maxDelayMs: 5 });
  await decisions.write(rows.filter((r) => r.task_id === TASK_SHARED).map((r, i) => ({
    decision_id: `d-${i}`, ts: r.ts, task_id: r.task_id, trace_id: r.trace_id, span_id: r.span_id, agent_id: r.agent_id, kind: 'action',
    policy_version: 'v1', revision: 'rev-1', result: r.verdict === 'verified' ? 'allow' : 'deny', rules: ['depth.global'],
    reason_codes: r.verdict === 'verified' ? [] : ['policy.depth.global'], reason_details: r.verdict === 'verified' ? [] : ['too deep'],
    reason_links: r.verdict === 'verified' ? [] : [1], link_hashes: ['h0'], input: '{"action":{},"chain":{}}',
  })));
  await decisions.close();

  const link = (hash: string, td: string, iss: string, sub: string, iat: number) =>
    ({ hash, kid: 'k', alg: 'EdDSA', trustDomain: td, claims: { iss, sub, scope: ['ec2:Describe*'], iat, nbf: iat, exp: iat + 600, jti: `j-${hash}`, task: TASK_SHARED, purpose: 'quarterly review' } });
  const check: ChainCheck = {
    reasons: [],
    links: [
      link('L-co-0', CO, 'alice@co.example', PLANNER, 1_800_000_000),
      link('L-co-1', CO, PLANNER, INVENTORY, 1_800_000_010),
      link('L-co-2', CO, PLANNER, `spiffe://${CO}/agent/cost/c-1`, 1_800_000_020),
      link('L-partner-0', PARTNER, PLANNER, BILLING, 1_800_000_030),
    ],
  };
  await links.write(toDelegationRows(check, now));
  // The planner's chain, as the revocation stage records it: its one link, root first.
  const chains = new BatchWriter<{ chain_hash: string; task_id: string; link_hashes: string[]; first_seen: number }>(store.writer, `${db}.chain_links`, { maxRows: 10, maxDelayMs: 5 });
  await chains.write([{ chain_hash: `chain-${PLANNER}`, task_id: TASK_SHARED, link_hashes: ['L-co-0'], first_seen: now }]);
  await Promise.all([actions.close(), links.close(), chains.close()]);
}
