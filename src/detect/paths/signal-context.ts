/**
 * What every chain-shaped alert carries about the action that triggered it:
 * the span, task, human, agents and chain, and the jti of the delegation
 * links involved (from the batch's new delegation rows). Pure.
 */
import type { ActionRow, DelegationRow } from '../../correlate/rows.js';
import type { AlertSignal } from '../alert.js';
import { actionTimeMs, type ChainView } from './chain-view.js';

/** The fields of a signal that come from the triggering action. */
export type ActionContext = Pick<AlertSignal, 'tenant' | 'windowStartMs' | 'eventKey' | 'observedAtMs' | 'taskId' | 'human' | 'agents' | 'chainHash' | 'traceId'>;

export function actionContext(a: ActionRow, view: ChainView, nowMs: number): ActionContext {
  return {
    tenant: view.tenant,
    windowStartMs: 0,
    eventKey: `${a.trace_id}/${a.span_id}`,
    observedAtMs: actionTimeMs(a.ts, nowMs),
    taskId: a.task_id,
    human: view.human,
    agents: view.agents,
    chainHash: a.chain_hash,
    traceId: a.trace_id,
  };
}

/**
 * Link ids (jti) by (task, delegator, delegatee), built once per batch and
 * only when a signal needs one. A link stored by an earlier batch is not in
 * the batch's delegation rows; its edge was then seen before, so new edges
 * almost always find theirs.
 */
export class LinkIndex {
  private index: Map<string, string> | undefined;

  constructor(private readonly rows: readonly DelegationRow[]) {}

  jti(task: string, delegator: string, delegatee: string): string | undefined {
    if (this.index === undefined) {
      this.index = new Map();
      for (const r of this.rows) this.index.set(key(r.task_id, r.delegator, r.delegatee), r.jti);
    }
    return this.index.get(key(task, delegator, delegatee));
  }

  /** The jti of every link of the chain found in the batch, root first. */
  chain(task: string, view: ChainView): string[] {
    const out: string[] = [];
    view.agents.forEach((agent, i) => {
      const j = this.jti(task, i === 0 ? view.human : (view.agents[i - 1] as string), agent);
      if (j !== undefined) out.push(j);
    });
    return out;
  }
}

function key(task: string, from: string, to: string): string {
  return `${task}\u0000${from}\u0000${to}`;
}

/** A time as ISO-8601 for evidence, or "never". */
export function isoOrNever(ms: number | undefined): string {
  return ms === undefined ? 'never' : new Date(ms).toISOString();
}
