/**
 * The seed article's quarterly infrastructure review as data: who delegates
 * what to whom, how many actions each agent performs, and which deliberately
 * bad actions the demo slips in. Pure, so tests can check the demo's
 * expectations without running it.
 */
import type { ReasonCode } from '../model/verdict.js';
import type { AlertKind } from '../detect/alert.js';

export const TRUST_DOMAIN = 'acme.example';
export const HUMAN = 'alice@acme.example';
export const PURPOSE = 'quarterly infrastructure review';

export type AgentKey = 'planning' | 'inventory' | 'security' | 'cost' | 'report';

export interface AgentPlan {
  key: AgentKey;
  name: string;
  spiffeId: string;
  /** Scope delegated to it (the planner's comes from Alice). */
  scope: string[];
  /** Its legitimate actions: tool, scope exercised, resource; repeated round-robin. */
  tools: Array<{ tool: string; scope: string; resource: string }>;
  /** Legitimate actions, including its own invoke_agent span on receiving the task. */
  actions: number;
  /** Minutes after Alice's request during which it works. */
  window: [number, number];
  encoding: 'protobuf' | 'json';
}

const id = (name: string, instance: string) => `spiffe://${TRUST_DOMAIN}/agent/${name}/${instance}`;

/** The seed's figures: 15 + 234 + 89 + 12 + 3 = 353 legitimate actions across 5 agents. */
export const AGENTS: readonly AgentPlan[] = [
  { key: 'planning', name: 'planning-agent', spiffeId: id('planning', 'instance-abc123'), scope: ['infrastructure:review'], tools: [], actions: 15, window: [0, 45], encoding: 'protobuf' },
  {
    key: 'inventory', name: 'cloud-inventory-agent', spiffeId: id('cloud-inventory', 'instance-def456'), scope: ['cloud:read'], actions: 234, window: [1, 13], encoding: 'protobuf',
    tools: [
      { tool: 'aws.ec2.DescribeInstances', scope: 'ec2:DescribeInstances', resource: 'arn:aws:ec2:eu-west-1:111122223333:instance/*' },
      { tool: 'aws.s3.ListBuckets', scope: 's3:ListBuckets', resource: 'arn:aws:s3:::*' },
      { tool: 'gcp.compute.instances.list', scope: 'compute.instances.list', resource: 'projects/acme-prod/zones/europe-west1-b' },
    ],
  },
  {
    key: 'security', name: 'security-scanner-agent', spiffeId: id('security-scanner', 'instance-0a11ce'), scope: ['security:read'], actions: 89, window: [2, 20], encoding: 'json',
    tools: [
      { tool: 'vulndb.query', scope: 'vulndb:query', resource: 'https://vulndb.acme.example/v2/cves' },
      { tool: 'aws.config.GetComplianceDetails', scope: 'config:GetComplianceDetailsByResource', resource: 'arn:aws:config:eu-west-1:111122223333:config-rule/*' },
    ],
  },
  // Over-provisioned on purpose: granted security:read, which it never uses (detection raises scope.over_provisioned).
  {
    key: 'cost', name: 'cost-analyzer-agent', spiffeId: id('cost-analyzer', 'instance-c0575'), scope: ['billing:read', 'security:read'], actions: 12, window: [5, 15], encoding: 'json',
    tools: [{ tool: 'aws.ce.GetCostAndUsage', scope: 'ce:GetCostAndUsage', resource: 'arn:aws:ce:us-east-1:111122223333:/GetCostAndUsage' }],
  },
  {
    key: 'report', name: 'report-generator-agent', spiffeId: id('report-generator', 'instance-7e9047'), scope: ['reports:write'], actions: 3, window: [40, 44], encoding: 'protobuf',
    tools: [{ tool: 'confluence.createPage', scope: 'confluence:CreatePage', resource: 'https://wiki.acme.example/spaces/INFRA' }],
  },
];

/** What each scope grants: the policy the demo's verifier runs with. */
export const IMPLICATIONS: Record<string, string[]> = {
  'infrastructure:review': ['cloud:read', 'security:read', 'billing:read', 'reports:write'],
  'cloud:read': ['ec2:Describe*', 's3:List*', 'compute.instances.list'],
  'security:read': ['vulndb:query', 'config:Get*'],
  'billing:read': ['ce:Get*'],
  'reports:write': ['confluence:CreatePage'],
};

export type BadKind = 'scope' | 'expired' | 'tampered' | 'stolen' | 'long-write';

/** The deliberately bad actions, and the reason chainsight must give for each. */
export const BAD_ACTIONS: ReadonlyArray<{ kind: BadKind; agent: AgentKey; minute: number; tool: string; scope: string; resource: string; expect: ReasonCode; story: string }> = [
  { kind: 'scope', agent: 'security', minute: 21, tool: 'aws.iam.CreateAccessKey', scope: 'iam:CreateAccessKey', resource: 'arn:aws:iam::111122223333:user/ci-deployer', expect: 'scope.exceeded', story: 'security scanner uses a scope it was never granted' },
  { kind: 'expired', agent: 'cost', minute: 16, tool: 'aws.ce.GetCostAndUsage', scope: 'ce:GetCostAndUsage', resource: 'arn:aws:ce:us-east-1:111122223333:/GetCostAndUsage', expect: 'time.expired', story: "cost analyzer replays last quarter's expired delegation" },
  { kind: 'tampered', agent: 'report', minute: 44, tool: 'email.send', scope: 'email:SendExternal', resource: 'mailto:board@partner.example', expect: 'signature.invalid', story: 'report generator edits its own link to add email:SendExternal' },
  { kind: 'long-write', agent: 'report', minute: 43, tool: 'confluence.createPage', scope: 'confluence:CreatePage', resource: 'https://wiki.acme.example/spaces/INFRA', expect: 'policy.lifetime.write', story: 'planning agent grants reports:write for 100 minutes; policy allows write delegations 90' },
  { kind: 'stolen', agent: 'cost', minute: 17, tool: 'aws.ec2.DescribeInstances', scope: 'ec2:DescribeInstances', resource: 'arn:aws:ec2:eu-west-1:111122223333:instance/*', expect: 'agent.mismatch', story: "cost analyzer presents the inventory agent's chain" },
];

/** Legitimate action count per agent SPIFFE ID, plus the bad ones: what the tree must show. */
export function expectedCounts(): Map<string, number> {
  const m = new Map<string, number>();
  for (const a of AGENTS) m.set(a.spiffeId, a.actions);
  for (const b of BAD_ACTIONS) {
    const a = AGENTS.find((x) => x.key === b.agent)!;
    m.set(a.spiffeId, (m.get(a.spiffeId) ?? 0) + 1);
  }
  return m;
}

/** Evenly spaced times (ms) for n actions inside [from, to] minutes after t0. */
export function spread(t0: number, n: number, [from, to]: [number, number]): number[] {
  const span = (to - from) * 60_000;
  return Array.from({ length: n }, (_, i) => t0 + from * 60_000 + Math.floor(((i + 0.5) * span) / Math.max(n, 1)));
}

/**
 * What the demo does after the review, once detection has learned it as the
 * baseline: a follow-up task in which a new, unexpected agent appears and a
 * shared resource is hit by many agents, another human's task on the same
 * resource, a chain replayed in that other task, and a burst of forged links.
 * Every link of this part lives 20 minutes. Tests about the review's own
 * data (dashboards, blast radius, what-if, the console) run the demo without
 * it.
 */
export const FOLLOW_UP = {
  purpose: 'board export of the quarterly findings',
  /** The resource every agent of the follow-up touches within two minutes. */
  resource: 'arn:aws:s3:::acme-finance-exports/board-q3.csv',
  /** Another human whose task reads the same resource. */
  otherHuman: 'bob@acme.example',
  otherPurpose: 'budget check',
  /** Never seen before: an unregistered planner instance the inventory agent hands work to, and the scanner instance it delegates on to. */
  rogue: { name: 'planning-agent', spiffeId: id('planning', 'instance-9f00d') },
  rogueScanner: { name: 'security-scanner-agent', spiffeId: id('security-scanner', 'instance-5ca1e') },
  /** Forged retries by the report generator (a link edited to add email:SendExternal). */
  forgedRetries: 6,
  linkTtlSec: 20 * 60,
} as const;

/**
 * The alerts the demo must end with, each with what it must name (the
 * subject or agents of one alert of that kind) and the part that raises it;
 * any other open alert is unexpected, so the review itself raises only what
 * its bad actions and the over-provisioned grant earn.
 */
export const EXPECTED_ALERTS: ReadonlyArray<{ kind: AlertKind; names: string; story: string; part: 'review' | 'follow-up' }> = [
  { kind: 'integrity.not_delegatee', names: id('cost-analyzer', 'instance-c0575'), story: "the review: the cost analyzer presents the inventory agent's chain", part: 'review' },
  { kind: 'policy.violation', names: 'rule lifetime.write', story: 'the review: a write delegation longer than the policy allows', part: 'review' },
  { kind: 'policy.violation', names: 'rule scope.diminishment', story: "the review and the follow-up: the scanner's scope breach and the forged links, denied by the policy too", part: 'review' },
  { kind: 'scope.over_provisioned', names: id('cost-analyzer', 'instance-c0575'), story: 'the review: the cost analyzer never uses security:read', part: 'review' },
  { kind: 'integrity.link_reuse', names: id('report-generator', 'instance-7e9047'), story: "the review: the report generator's edited link keeps the original's jti", part: 'review' },
  { kind: 'delegation.new_edge', names: FOLLOW_UP.rogue.spiffeId, story: 'follow-up: the inventory agent delegates to an unknown planner instance, which delegates on', part: 'follow-up' },
  { kind: 'delegation.new_edge_type', names: 'cloud-inventory', story: 'follow-up: an inventory agent delegating to a planner, never seen', part: 'follow-up' },
  // Raised for the first shape whose type edges were all known by then (the new type edge explains the other).
  { kind: 'delegation.new_path', names: 'cloud-inventory > spiffe://acme.example/agent/planning', story: 'follow-up: a path shape never seen, through the unknown planner', part: 'follow-up' },
  { kind: 'chain.depth_unusual', names: 'planning', story: 'follow-up: chains of 3 and 4 links where the review used 2', part: 'follow-up' },
  { kind: 'chain.depth_exceeded', names: 'planning', story: 'follow-up: a chain of 4 links, over the bound of 3', part: 'follow-up' },
  { kind: 'resource.many_agents', names: FOLLOW_UP.resource, story: 'follow-up: five agents on the finance export within two minutes', part: 'follow-up' },
  { kind: 'resource.cross_task', names: FOLLOW_UP.resource, story: "bob's task reads the export alice's task is working on", part: 'follow-up' },
  { kind: 'integrity.verification_burst', names: id('report-generator', 'instance-7e9047'), story: 'follow-up: the report generator retries a forged link', part: 'follow-up' },
  { kind: 'integrity.link_reuse', names: id('cost-analyzer', 'instance-c0575'), story: "the cost analyzer replays its review chain in bob's task", part: 'follow-up' },
];
