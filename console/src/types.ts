/** The API's answers as the console reads them (documented in src/serve/openapi.ts). */

// The shapes the server builds, from the module it builds them with: they cannot drift apart.
export type { ActionChain, ActionNode, AgentNode, ChainLink, DelegationGraph, EdgeMark, GraphEdge, GraphNode, ScopeBucket, TaskSummary, TaskTree } from '../../src/model/views.js';

export interface EdgeTask {
  task_id: string;
  links: number;
  invalid: number;
  actions: number;
  failed: number;
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
