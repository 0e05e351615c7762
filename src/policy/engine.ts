/**
 * The built-in policy engine: `evaluateChain` judges a delegation chain,
 * `evaluateAction` a chain plus one action on it. Pure functions of a compiled
 * policy and an input; they never throw. Input that cannot be judged is
 * denied (`policy.input.invalid`); a chain some of whose links did not decode
 * is judged on what decoded and denied as `policy.input.incomplete`.
 */
import type { CompiledPolicy } from './compile.js';
import { actionShapeProblems, chainShapeProblems, type ShapeProblem } from './input-shape.js';
import { agentTypeRule, approvalRules, crossDomainRules, delegationRules, depthRules, gatherFacts, lifetimeRules, scopeRules, violate, type Facts, type Outcome } from './rules.js';
import { agentTypeOf } from './spiffe-type.js';
import { INPUT_INCOMPLETE, INPUT_INVALID, type ActionPolicyInput, type ChainPolicyInput, type PolicyDecision } from './types.js';

/** Bound on memoised agent types per policy: IDs come from hostile spans. */
const MAX_TYPE_MEMO = 10_000;
const typeMemos = new WeakMap<CompiledPolicy, Map<string, string | null>>();

/** The known agent type of a SPIFFE ID under a policy, or undefined. */
export function knownAgentType(policy: CompiledPolicy, id: string): string | undefined {
  let memo = typeMemos.get(policy);
  if (memo === undefined) typeMemos.set(policy, (memo = new Map()));
  const hit = memo.get(id);
  if (hit !== undefined) return hit ?? undefined;
  const t = agentTypeOf(id, policy.data.agentTypes.patterns);
  const known = t !== undefined && policy.knownTypes.has(t) ? t : null;
  if (memo.size >= MAX_TYPE_MEMO) memo.clear();
  memo.set(id, known);
  return known ?? undefined;
}

function decide(policy: CompiledPolicy, o: Outcome): PolicyDecision {
  return {
    result: o.reasons.length === 0 ? 'allow' : 'deny',
    rules: [...o.applied].sort(),
    reasons: o.reasons,
    policyVersion: policy.data.version,
    revision: policy.data.revision,
  };
}

function invalid(policy: CompiledPolicy, problems: ShapeProblem[]): PolicyDecision {
  const o: Outcome = { applied: new Set([INPUT_INVALID]), reasons: [] };
  for (const p of problems) violate(o, INPUT_INVALID, p.link, p.message);
  return decide(policy, o);
}

function judge(policy: CompiledPolicy, input: ChainPolicyInput, action: ActionPolicyInput['action'] | undefined): PolicyDecision {
  const typeOf = (id: string) => knownAgentType(policy, id);
  const f: Facts = { policy, links: input.links, depth: input.depth, approvals: input.approvals, ...gatherFacts(input.links, typeOf) };
  if (action !== undefined) f.atMs = action.atMs;
  const o: Outcome = { applied: new Set(), reasons: [] };
  if (input.links.length !== input.depth) {
    o.applied.add(INPUT_INCOMPLETE);
    violate(o, INPUT_INCOMPLETE, undefined, `${input.depth - input.links.length} of ${input.depth} links could not be judged (they did not decode)`);
  }
  agentTypeRule(f, o);
  if (action !== undefined && typeOf(action.agent) === undefined) {
    violate(o, policy.data.agentTypes.id, undefined, `acting agent ${JSON.stringify(action.agent)} has no known agent type`);
  }
  depthRules(f, o);
  scopeRules(f, o, action?.scopes);
  lifetimeRules(f, o);
  delegationRules(f, o);
  crossDomainRules(f, o);
  approvalRules(f, o);
  return decide(policy, o);
}

function guarded(policy: CompiledPolicy, run: () => PolicyDecision): PolicyDecision {
  try {
    return run();
  } catch (e) {
    // A bug must never turn into an allow, nor into a crash of the pipeline.
    return invalid(policy, [{ message: `the engine could not judge this input: ${(e as Error)?.message ?? String(e)}` }]);
  }
}

/** Judge a delegation chain (no action): every rule that does not need an action. */
export function evaluateChain(policy: CompiledPolicy, input: ChainPolicyInput): PolicyDecision {
  return guarded(policy, () => {
    const problems = chainShapeProblems(input);
    return problems.length > 0 ? invalid(policy, problems) : judge(policy, input, undefined);
  });
}

/** Judge one action: the chain's rules, the acting agent's type, the action's scopes and approval times. */
export function evaluateAction(policy: CompiledPolicy, input: ActionPolicyInput): PolicyDecision {
  return guarded(policy, () => {
    const problems = actionShapeProblems(input);
    return problems.length > 0 ? invalid(policy, problems) : judge(policy, input, input.action);
  });
}
