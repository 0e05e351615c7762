/**
 * Per-span checks on top of a cached chain check: each link valid at the
 * span's start, the acting agent is the last delegatee, the task matches, the
 * operation is one that can be judged and the scopes used are granted. Pure,
 * synchronous and allocation-free when the span passes.
 */
import type { ChainCheck } from '../model/delegation.js';
import type { AgentSpan } from '../model/span.js';
import type { Reason } from '../model/verdict.js';
import { isWellKnownOperation, operationKind } from './operation.js';
import type { ScopeMatcher } from './scope.js';

const NONE: readonly Reason[] = Object.freeze([]);

/** A span's own text in a message: quoted, escaped and short. */
function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? s.slice(0, 80) + '…' : s);
}

function push(out: Reason[] | undefined, r: Reason): Reason[] {
  (out ??= []).push(r);
  return out;
}

function iso(sec: number): string {
  return new Date(sec * 1000).toISOString();
}

/**
 * @param depth number of tokens the span carried: the last link is only
 *   trusted for agent and scope checks when every token decoded.
 */
export function spanReasons(check: ChainCheck, depth: number, span: AgentSpan, clockSkewSec: number, scopes: ScopeMatcher): readonly Reason[] {
  // Made lazily: the passing path allocates nothing.
  let out: Reason[] | undefined;
  const links = check.links;
  const t = span.startMs / 1000;
  // OTLP's 0 means "not set", and NaN would pass every comparison below: fail closed instead.
  if (!(t > 0) || !Number.isFinite(t)) out = push(out, { code: 'span.start_missing', message: 'span has no usable start time, so no link can be shown valid at it' });
  else for (let i = 0; i < links.length; i++) {
    const c = (links[i] as (typeof links)[number]).claims;
    if (t < c.nbf - clockSkewSec) out = push(out, { code: 'time.not_yet_valid', link: i, message: `span starts ${new Date(span.startMs).toISOString()}, link valid from ${iso(c.nbf)}` });
    if (t >= c.exp + clockSkewSec) out = push(out, { code: 'time.expired', link: i, message: `span starts ${new Date(span.startMs).toISOString()}, link expired ${iso(c.exp)}` });
  }
  const last = links.length === depth && depth > 0 ? links[depth - 1]?.claims : undefined;
  const root = links[0]?.claims;

  if (span.agentId === '') out = push(out, { code: 'agent.missing', message: 'span has no gen_ai.agent.id' });
  else if (last !== undefined && span.agentId !== last.sub) out = push(out, { code: 'agent.mismatch', message: `span agent ${span.agentId} is not the chain's delegatee ${last.sub}` });

  if (span.taskId === '') out = push(out, { code: 'task.missing', message: 'span has no chainsight.task.id' });
  else if (root !== undefined && span.taskId !== root.task) out = push(out, { code: 'task.mismatch', message: `span task ${span.taskId} is not the chain's task ${root.task}` });

  const kind = operationKind(span.operation);
  if (kind === 'missing') out = push(out, { code: 'span.operation_missing', message: 'span has no gen_ai.operation.name, so it cannot be judged' });
  else if (kind === 'malformed') {
    out = push(out, { code: 'span.operation_malformed', message: `gen_ai.operation.name ${quote(span.operation)} is not spelled as the GenAI conventions spell operation names` });
  }
  if (span.scopesUsed.length === 0) {
    // Fail closed: an action that does not say what it used cannot be shown to be within scope.
    if (kind === 'scoped') {
      const why = isWellKnownOperation(span.operation) ? `${span.operation} span` : `operation ${quote(span.operation)} is not a GenAI well-known operation, so it must say what it used, but it`;
      out = push(out, { code: 'scope.undeclared', message: `${why} declares no chainsight.scope.used` });
    }
  } else if (last !== undefined && !scopes.isSubset(span.scopesUsed, last.scope)) {
    const extra = scopes.uncovered(span.scopesUsed, last.scope);
    out = push(out, { code: 'scope.exceeded', message: `used ${extra.map(quote).join(', ')} beyond granted ${last.scope.join(', ')}` });
  }
  return out ?? NONE;
}
