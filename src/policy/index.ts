/** The policy engine: public surface. */
export type * from './types.js';
export { INPUT_INVALID, INPUT_INCOMPLETE, ENGINE_UNAVAILABLE, HUMAN_TYPE } from './types.js';
export { parsePolicy, loadPolicyFile, PolicyLoadError, type PolicyProblem } from './loader.js';
export { compilePolicy, type CompiledPolicy, type PolicyData } from './compile.js';
export { evaluateAction, evaluateChain, knownAgentType } from './engine.js';
export { PolicyEngine, type PolicyEvaluator, type PolicyEngineStats } from './policy-engine.js';
export { PolicyWatcher, type ReloadEvent, type PolicyWatcherOptions } from './watcher.js';
export { OpaPolicyClient, decisionFromOpa, type OpaClientOptions } from './opa-client.js';
export { verifyApprovals, mintApproval, parseApproval, APPROVAL_TYPE, type ApprovalClaims } from './approval.js';
export { chainInput, actionInput, approvalTokensOf, APPROVALS_ATTRIBUTE } from './input.js';
export { SpanPolicy } from './span-policy.js';
export { decisionLogEvent, decisionRow, DECISION_PATH, type DecisionLogEvent, type DecisionRow } from './decision-log.js';
export { agentTypeOf, parseSpiffe } from './spiffe-type.js';
