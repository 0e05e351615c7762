/**
 * Views: the shapes the analyst API answers with, shared by the server (which builds
 * them: serve/tree.ts, serve/graph.ts, store/queries.ts) and the console (which reads them: console/src),
 * so the two cannot drift. Types only, no imports: the console's build takes
 * this file as it is. Documented for callers in serve/openapi.ts.
 */

/** One row of the task list (store/queries.ts builds it). */
export interface TaskSummary {
  task_id: string;
  /** The purpose, human and issue time of the task's earliest verified chain; '' when none verified. */
  purpose: string;
  root_human: string;
  requested_at: string;
  first_action: string;
  last_action: string;
  /** Distinct spans (re-deliveries and re-verdicts count once), within the trust domains asked for. */
  actions: number;
  agents: number;
  /** Spans whose newest verdict is failed. */
  failed: number;
  /** Trust domains of the task's agents ('' for agents without a SPIFFE ID), within those asked for. */
  trust_domains: string[];
}

/** One action, nested under the action (span) that caused it within the same agent. */
export interface ActionNode {
  traceId: string;
  spanId: string;
  name: string;
  operation: string;
  tool: string;
  ts: string;
  resource: string;
  scopesUsed: string[];
  verdict: string;
  reasons: string[];
  details: string[];
  children: ActionNode[];
}

/** One agent in the delegation tree, with its own actions and the agents it delegated to. */
export interface AgentNode {
  agentId: string;
  agentName: string;
  delegatedBy: string;
  scopesGranted: string[];
  actions: number;
  verified: number;
  failed: number;
  firstTs: string;
  lastTs: string;
  /** Top-level actions of this agent; their children hang below. */
  actionTree: ActionNode[];
  delegates: AgentNode[];
}

export interface TaskTree {
  taskId: string;
  purpose: string;
  rootHuman: string;
  /** When the human authorized the task (the root link's iat), ISO time; '' when no chain verified far enough. */
  requestedAt: string;
  total: number;
  verified: number;
  failed: number;
  agentCount: number;
  actionsByAgent: Record<string, number>;
  failuresByReason: Record<string, number>;
  /** Agents directly authorized by the human, with everything below them. */
  agents: AgentNode[];
  /** Actions whose chain names no path (missing or undecodable chain), grouped by the agent that reported them. */
  unattributed: AgentNode[];
}

export interface GraphNode {
  id: string;
  name: string;
  kind: 'human' | 'agent';
  /** Actions this agent performed in the range (0 for humans). */
  actions: number;
  failed: number;
}

/** Why an edge is marked: codes an analyst (and the console) switches on. */
export type EdgeMark = 'link.invalid' | 'action.flagged' | 'edge.unexpected' | 'edge.new';

export interface GraphEdge {
  from: string;
  to: string;
  /** Links recorded from `from` to `to`, and how many of them failed verification. */
  links: number;
  invalidLinks: number;
  /** Actions of `to` under a chain naming `from` as the hop before it, and how many were flagged. */
  actions: number;
  failedActions: number;
  /** Distinct tasks (the larger of the links' and the actions' counts: they may be different tasks). */
  tasks: number;
  invalid: boolean;
  /**
   * Actions crossed it but no link grants it (an agent acting on a chain
   * delegated to another), or detection raised a first-seen-edge alert on it.
   */
  unexpected: boolean;
  marks: EdgeMark[];
}

export interface DelegationGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** One bucket of an agent's history: what its chains granted, what it used, and the difference. */
export interface ScopeBucket {
  start: string;
  actions: number;
  failed: number;
  granted: string[];
  /** Each scope used, with whether a granted scope covers it (directly, by pattern, or through the policy's implications). */
  used: Array<{ scope: string; uses: number; covered: boolean }>;
  /** Granted scopes that cover none of the scopes used in this bucket. */
  unused: string[];
  /** Used scopes no granted scope covers. */
  ungranted: string[];
}

/** A link of one action's chain as the console shows it. */
export interface ChainLink {
  position: number;
  linkHash: string;
  jti: string;
  issuer: string;
  issuerKind: string;
  subject: string;
  scopes: string[];
  issuedAt: string;
  notBefore: string;
  expiresAt: string;
  trustDomain: string;
  kid: string;
  alg: string;
  /** verified: signature and structure checked; invalid: a structural reason points at it or a link before it; unrecorded: the store has no row for it. */
  status: 'verified' | 'invalid' | 'unrecorded';
  /** Whether the link had expired when the action started. */
  expiredAtAction: boolean;
}

export interface ActionChain {
  taskId: string;
  spanId: string;
  traceId: string;
  ts: string;
  agentId: string;
  verdict: string;
  reasons: Array<{ code: string; detail: string }>;
  chainPath: string[];
  links: ChainLink[];
}
