/** The API's answers as the console reads them (documented in src/serve/openapi.ts). */

export interface TaskSummary {
  task_id: string;
  purpose: string;
  root_human: string;
  requested_at: string;
  first_action: string;
  last_action: string;
  actions: number;
  agents: number;
  failed: number;
  trust_domains: string[];
}

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
  actionTree: ActionNode[];
  delegates: AgentNode[];
}

export interface TaskTree {
  taskId: string;
  purpose: string;
  rootHuman: string;
  requestedAt: string;
  total: number;
  verified: number;
  failed: number;
  agentCount: number;
  actionsByAgent: Record<string, number>;
  failuresByReason: Record<string, number>;
  agents: AgentNode[];
  unattributed: AgentNode[];
}

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
  status: 'verified' | 'invalid' | 'unrecorded';
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

export interface GraphNode {
  id: string;
  name: string;
  kind: 'human' | 'agent';
  actions: number;
  failed: number;
}

export interface GraphEdge {
  from: string;
  to: string;
  links: number;
  invalidLinks: number;
  actions: number;
  failedActions: number;
  tasks: number;
  invalid: boolean;
  unexpected: boolean;
  marks: string[];
}

export interface EdgeTask {
  task_id: string;
  links: number;
  invalid: number;
  actions: number;
  failed: number;
}

export interface ScopeBucket {
  start: string;
  actions: number;
  failed: number;
  granted: string[];
  used: Array<{ scope: string; uses: number; covered: boolean }>;
  unused: string[];
  ungranted: string[];
}

export interface Delegation {
  link_hash: string;
  jti: string;
  task_id: string;
  delegator: string;
  delegatee: string;
  scopes: string[];
  issued_at: string;
  expires_at: string;
  valid: boolean;
}

/** The alerts API's shape (schemas/alerts.md). */
export interface AlertView {
  id: string;
  kind: string;
  severity: string;
  state: 'open' | 'acknowledged' | 'resolved';
  tenant: string;
  subject: string;
  summary: string;
  taskId: string;
  human: string;
  agents: string[];
  chainHash: string;
  traceId: string;
  windowStart: string | null;
  firstSeen: string | null;
  lastSeen: string | null;
  count: number;
  acknowledgedBy: string | null;
  acknowledgedAt: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
  resolution: string | null;
}

export interface BlastRadius {
  subject: { kind: string; id: string };
  links: string[];
  chains: Array<{ chainHash: string; taskId: string; path: string[]; depth: number; actions: number }>;
  derivedLinks: string[];
  tasks: Array<{ taskId: string; actions: number; failed: number }>;
  actions: { total: number; verified: number; failed: number; first: string | null; last: string | null };
  byAgent: Array<{ agent: string; actions: number; failed: number; scopes: Array<{ scope: string; actions: number }> }>;
  byScope: Array<{ scope: string; actions: number }>;
  truncated: boolean;
}

export interface Revocation {
  id: string;
  kind: string;
  target: string;
  reason: string;
  revokedBy: string;
  revokedAtMs: number;
  expiresAtMs: number;
}
