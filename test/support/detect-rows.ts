/**
 * Test helper: action and delegation rows as the correlate stage builds them,
 * for a chain given as its path (human first), to feed detectors directly.
 */
import { createHash } from 'node:crypto';
import type { ActionRow, DelegationRow } from '../../src/correlate/rows.js';
import { toActionRow } from '../../src/correlate/correlate.js';
import { failed, VERIFIED } from '../../src/model/verdict.js';
import type { DetectionInput } from '../../src/detect/detector.js';
import { makeSpan } from './spans.js';

let seq = 0;

/** A spiffe ID in `td` for agent `name` (optionally an instance). */
export const agent = (td: string, name: string, instance?: string): string => `spiffe://${td}/agent/${name}${instance ? `/${instance}` : ''}`;

/** An action acting under the chain `path` ([human, agent, …]), verified unless `fail` names a reason. */
export function actionOn(path: string[], over: { fail?: string; task?: string; nowMs?: number } = {}): ActionRow {
  const n = ++seq;
  const span = makeSpan({ spanId: n.toString(16).padStart(16, '0'), taskId: over.task ?? 'task-1', agentId: path[path.length - 1] as string });
  const verdict = over.fail === undefined ? VERIFIED : failed([{ code: over.fail as 'signature.invalid', message: 'test' }]);
  const hash = createHash('sha256').update(path.join('\n')).digest('base64url');
  const summary = {
    rootHuman: path[0] as string, rootIssuedAtMs: 1, purpose: 'p', depth: path.length - 1, path,
    delegator: path[path.length - 2] as string, grantedScopes: [], linkHashes: [], evidence: 'signed-links' as const,
  };
  return toActionRow(span, verdict, summary, hash, over.nowMs ?? 0);
}

/** The delegation rows of a chain's links, with jti `jti-<delegatee>`. */
export function linksOf(path: string[], task = 'task-1'): DelegationRow[] {
  return path.slice(1).map((to, i) => ({
    link_hash: `h-${i}-${to}`, jti: `jti-${to}`, task_id: task, delegator: path[i] as string, delegatee: to,
    delegator_kind: i === 0 ? 'human' : 'agent', scopes: [], issued_at: 0, not_before: 0, expires_at: 0, parent_hash: '',
    depth: i + 1, trust_domain: '', kid: '', alg: '', purpose: '', valid: true, first_seen: 0,
  }));
}

/** A batch judged at `nowMs` holding one action per chain (and no delegation rows unless given). */
export function batchOf(nowMs: number, paths: string[][], delegations: DelegationRow[] = [], fail?: string): DetectionInput {
  return { nowMs, actions: paths.map((p) => actionOn(p, { nowMs, ...(fail ? { fail } : {}) })), delegations };
}
