/**
 * The built-in policy engine: `evaluateChain` judges a delegation chain,
 * `evaluateAction` a chain plus one action on it. Pure functions of a compiled
 * policy and an input; they never throw. Input that cannot be judged is
 * denied (`policy.input.invalid`); a chain some of whose links did not decode
 * is judged on what decoded and denied as `policy.input.incomplete`.
 *
 * An action's decision is its chain's judgement (time-independent, so
 * cacheable: see policy-engine.ts) finished with the action's own checks.
 */
import type { CompiledPolicy } from './compile.js';
import { actionPartProblems, actionShapeProblems, chainShapeProblems, type ShapeProblem } from './input-shape.js';
import {
  actionRules,
  agentTypeRule,
  approvalRules,
  approvalTimes,
  crossDomainRules,
  delegationRules,
  depthRules,
  gatherFacts,
  lifetimeRules,
  scopeRules,
  violate,
  type ApprovalNeed,
  type Facts,
  type Outcome,
} from './rules.js';
import { agentTypeOf } from './spiffe-type.js';
import { INPUT_INCOMPLETE, INPUT_INVALID, type ActionPolicyInput, type ChainPolicyInput, type PolicyDecision, type PolicyLink, type PolicyReason } from './types.js';

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

/** A chain's judgement: frozen once made, shared by every action on the chain. */
export interface ChainJudgement {
  policy: CompiledPolicy;
  links: readonly PolicyLink[];
  /** The input's depth (links the span carried). */
  depth: number;
  /** Shape problems: when present, nothing else was judged. */
  invalid: readonly ShapeProblem[];
  applied: ReadonlySet<string>;
  /** `applied`, sorted (actions add no rules, so their decisions reuse it). */
  rules: readonly string[];
  reasons: Outcome['reasons'];
  needs: readonly ApprovalNeed[];
  /** Reasons of the action rules, by agent and scopes (most spans of a chain repeat them). */
  actionMemo: Map<string, Outcome['reasons']>;
  /** The allow decision, built once and shared (frozen) by every action it allows. */
  allow?: PolicyDecision;
}

const MAX_ACTION_MEMO = 64;

function decide(policy: CompiledPolicy, o: Outcome): PolicyDecision {
  return {
    result: o.reasons.length === 0 ? 'allow' : 'deny',
    rules: [...o.applied].sort(),
    reasons: o.reasons,
    policyVersion: policy.data.version,
    revision: policy.data.revision,
  };
}

function invalidDecision(policy: CompiledPolicy, problems: readonly ShapeProblem[]): PolicyDecision {
  const o: Outcome = { applied: new Set([INPUT_INVALID]), reasons: [] };
  for (const p of problems) violate(o, INPUT_INVALID, p.link, p.message);
  return decide(policy, o);
}

/** Judge the time-independent rules of a chain. Throws only on engine bugs (callers guard). */
export function judgeChain(policy: CompiledPolicy, input: ChainPolicyInput, problems = chainShapeProblems(input)): ChainJudgement {
  if (problems.length > 0) return { policy, links: [], depth: -1, invalid: problems, applied: new Set(), rules: [], reasons: [], needs: [], actionMemo: new Map() };
  const f: Facts = { policy, links: input.links, depth: input.depth, approvals: input.approvals, ...gatherFacts(input.links, (id) => knownAgentType(policy, id)) };
  const o: Outcome = { applied: new Set(), reasons: [] };
  if (input.links.length !== input.depth) {
    o.applied.add(INPUT_INCOMPLETE);
    violate(o, INPUT_INCOMPLETE, undefined, `${input.depth - input.links.length} of ${input.depth} links could not be judged (they did not decode)`);
  }
  agentTypeRule(f, o);
  depthRules(f, o);
  scopeRules(f, o);
  lifetimeRules(f, o);
  delegationRules(f, o);
  crossDomainRules(f, o);
  const needs = approvalRules(f, o);
  return { policy, links: input.links, depth: input.depth, invalid: [], applied: o.applied, rules: [...o.applied].sort(), reasons: o.reasons, needs, actionMemo: new Map() };
}

/** The decision for a chain alone. */
export function chainDecision(j: ChainJudgement): PolicyDecision {
  if (j.invalid.length > 0) return invalidDecision(j.policy, j.invalid);
  return decide(j.policy, { applied: new Set(j.applied), reasons: [...j.reasons] });
}

/**
 * The action rules' reasons for one agent and scope list, memoised on the
 * judgement; undefined when the action's shape is wrong. The memo key is
 * length-prefixed, so no two (agent, scopes) share one, and only actions that
 * passed the shape check are memoised: a hit needs no second check.
 */
function actionReasons(j: ChainJudgement, action: ActionPolicyInput['action']): Outcome['reasons'] | undefined {
  if (typeof action !== 'object' || action === null || typeof action.agent !== 'string' || !Array.isArray(action.scopes) || !Number.isFinite(action.atMs)) return undefined;
  let key = `${action.agent.length}:${action.agent}`;
  for (const s of action.scopes) {
    if (typeof s !== 'string') return undefined;
    key += `${s.length}:${s}`;
  }
  const hit = j.actionMemo.get(key);
  if (hit !== undefined) return hit;
  if (actionPartProblems(action).length > 0) return undefined;
  // Action rules only add reasons, never applied rules, so the shared set is safe here.
  const o: Outcome = { applied: j.applied as Set<string>, reasons: [] };
  actionRules(j, knownAgentType(j.policy, action.agent), action, o);
  if (j.actionMemo.size >= MAX_ACTION_MEMO) j.actionMemo.clear();
  j.actionMemo.set(key, o.reasons);
  return o.reasons;
}

/**
 * A chain's judgement finished with one action's checks. The hot path: an
 * allowed action gets the judgement's shared, frozen allow decision.
 */
export function actionDecision(j: ChainJudgement, action: ActionPolicyInput['action']): PolicyDecision {
  const own = j.invalid.length > 0 ? undefined : actionReasons(j, action);
  if (own === undefined) return invalidDecision(j.policy, [...j.invalid, ...actionPartProblems(action)]);
  const o: Outcome = { applied: j.applied as Set<string>, reasons: j.reasons.length + own.length === 0 ? [] : j.reasons.concat(own) };
  if (j.needs.length > 0) approvalTimes(j.needs, action.atMs, o);
  if (o.reasons.length === 0) {
    j.allow ??= Object.freeze({ result: 'allow', rules: Object.freeze(j.rules.slice()) as string[], reasons: Object.freeze([]) as unknown as PolicyReason[], policyVersion: j.policy.data.version, revision: j.policy.data.revision });
    return j.allow;
  }
  return { result: 'deny', rules: j.rules.slice(), reasons: o.reasons.map((r) => ({ ...r })), policyVersion: j.policy.data.version, revision: j.policy.data.revision };
}

/** Run `fn`; an engine bug becomes a deny, never an allow nor a crash of the pipeline. */
export function guarded(policy: CompiledPolicy, fn: () => PolicyDecision): PolicyDecision {
  try {
    return fn();
  } catch (e) {
    return invalidDecision(policy, [{ message: `the engine could not judge this input: ${(e as Error)?.message ?? String(e)}` }]);
  }
}

/** Judge a delegation chain (no action): every rule that does not need an action. */
export function evaluateChain(policy: CompiledPolicy, input: ChainPolicyInput): PolicyDecision {
  return guarded(policy, () => chainDecision(judgeChain(policy, input)));
}

/** Judge one action: the chain's rules, the acting agent's type, the action's scopes and approval times. */
export function evaluateAction(policy: CompiledPolicy, input: ActionPolicyInput): PolicyDecision {
  return guarded(policy, () => {
    const problems = actionShapeProblems(input);
    if (problems.length > 0) return invalidDecision(policy, problems);
    return actionDecision(judgeChain(policy, input, []), input.action);
  });
}
