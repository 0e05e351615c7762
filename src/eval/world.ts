/**
 * The normal world of the evaluation scenario: tenants (trust domains) with
 * their people, agent types, fleets, tools and task templates. Static data;
 * src/eval/plan.ts draws tasks from it. Each tenant has the same five roles
 * under its own names, so every injected anomaly has a counterpart in every
 * tenant, and the templates are chosen so that some anomalies are new in
 * exactly one way (e.g. a path made only of known edges).
 */

/** One tool an agent type calls: the scope it exercises and the resource it touches (`{acct}` and `{id}` filled per action). */
export interface ToolSpec {
  tool: string;
  scope: string;
  resource: string;
}

export type Role = 'lead' | 'a' | 'b' | 'c' | 'w';
export const ROLES: readonly Role[] = ['lead', 'a', 'b', 'c', 'w'];

export interface AgentTypeSpec {
  role: Role;
  type: string;
  /** Instances at the start; split into teams round-robin. */
  fleet: number;
  tools: ToolSpec[];
}

/** A delegation tree by role: the root's delegatee, each node's children. */
export interface TemplateNode {
  role: Role | 'partner';
  children: TemplateNode[];
}

export interface TemplateSpec {
  name: string;
  purpose: string;
  weight: number;
  root: TemplateNode;
}

export interface TenantSpec {
  domain: string;
  humans: string[];
  /** Humans and instances split into this many teams; a task stays within its human's team. */
  teams: number;
  types: Record<Role, AgentTypeSpec>;
  templates: TemplateSpec[];
  /** Tasks per working day (weekends run at WEEKEND_FACTOR of it). */
  tasksPerDay: number;
  /** First digits of the tenant's cloud account numbers. */
  accountPrefix: string;
}

/** The vendor domain some tenants' planners delegate analysis to (a legitimate trust-domain crossing). */
export const PARTNER = {
  domain: 'partner.example',
  type: 'analytics',
  fleet: 1,
  tools: [{ tool: 'forecast.run', scope: 'forecast:run', resource: 'https://api.partner.example/forecast/{acct}/{id}' }] as ToolSpec[],
};

const node = (role: Role | 'partner', ...children: TemplateNode[]): TemplateNode => ({ role, children });

/**
 * The templates every tenant runs. Edges by role: lead→a, lead→b, lead→c,
 * lead→w (broad), a→b (deep), b→c (direct), c→w (handoff). Usual depth: 2 or
 * 3 from a lead, 2 from b or c.
 */
export function standardTemplates(withPartner: boolean): TemplateSpec[] {
  const t: TemplateSpec[] = [
    { name: 'broad', purpose: 'quarterly review', weight: 5, root: node('lead', node('a'), node('b'), node('c'), node('w')) },
    { name: 'deep', purpose: 'deep inventory scan', weight: 3, root: node('lead', node('a', node('b'))) },
    { name: 'direct', purpose: 'spot check', weight: 2, root: node('b', node('c')) },
    { name: 'handoff', purpose: 'summary hand-off', weight: 1.2, root: node('c', node('w')) },
  ];
  if (withPartner) t.push({ name: 'partner', purpose: 'cost forecast', weight: 0.8, root: node('lead', node('partner')) });
  return t;
}

export const WEEKEND_FACTOR = 0.25;

/** Relative task starts per hour of the day (UTC): quiet nights, a morning and an afternoon peak. */
export const HOURLY_CYCLE: readonly number[] = [
  0.05, 0.05, 0.05, 0.05, 0.05, 0.1, 0.2, 0.6, 1.4, 2, 2, 1.8, 1.1, 1.8, 2, 1.9, 1.5, 1, 0.6, 0.4, 0.3, 0.2, 0.1, 0.05,
];

export const TENANTS: readonly TenantSpec[] = [
  {
    domain: 'acme.example',
    humans: ['alice', 'bob', 'carol', 'dan', 'erin', 'frank'].map((h) => `${h}@acme.example`),
    teams: 2,
    tasksPerDay: 22,
    accountPrefix: '1111',
    types: {
      lead: { role: 'lead', type: 'planning', fleet: 4, tools: [{ tool: 'tickets.read', scope: 'tickets:read', resource: 'https://tickets.acme.example/{acct}/T-{id}' }] },
      a: {
        role: 'a', type: 'cloud-inventory', fleet: 6,
        tools: [
          { tool: 'aws.ec2.DescribeInstances', scope: 'ec2:DescribeInstances', resource: 'arn:aws:ec2:eu-west-1:{acct}:instance/i-{id}' },
          { tool: 'aws.s3.ListBuckets', scope: 's3:ListBuckets', resource: 'arn:aws:s3:::{acct}-bucket-{id}' },
        ],
      },
      b: {
        role: 'b', type: 'security-scanner', fleet: 4,
        tools: [
          { tool: 'vulndb.query', scope: 'vulndb:query', resource: 'https://vulndb.acme.example/{acct}/cves/{id}' },
          { tool: 'aws.config.GetComplianceDetails', scope: 'config:GetComplianceDetailsByResource', resource: 'arn:aws:config:eu-west-1:{acct}:config-rule/r-{id}' },
        ],
      },
      c: { role: 'c', type: 'cost-analyzer', fleet: 4, tools: [{ tool: 'aws.ce.GetCostAndUsage', scope: 'ce:GetCostAndUsage', resource: 'arn:aws:ce:us-east-1:{acct}:report/{id}' }] },
      w: { role: 'w', type: 'report-generator', fleet: 2, tools: [{ tool: 'confluence.createPage', scope: 'confluence:CreatePage', resource: 'https://wiki.acme.example/spaces/{acct}/pages/{id}' }] },
    },
    templates: standardTemplates(true),
  },
  {
    domain: 'globex.example',
    humans: ['gina', 'hank', 'ivan', 'jill', 'kate'].map((h) => `${h}@globex.example`),
    teams: 2,
    tasksPerDay: 18,
    accountPrefix: '2222',
    types: {
      lead: { role: 'lead', type: 'orchestrator', fleet: 4, tools: [{ tool: 'crm.lookup', scope: 'crm:read', resource: 'crm://globex/{acct}/accounts/{id}' }] },
      a: {
        role: 'a', type: 'data-fetcher', fleet: 4,
        tools: [
          { tool: 'warehouse.query', scope: 'warehouse:query', resource: 'bq://globex-{acct}.sales.orders_{id}' },
          { tool: 'gcs.get', scope: 'storage.objects.get', resource: 'gs://globex-{acct}/exports/{id}.parquet' },
        ],
      },
      b: { role: 'b', type: 'summarizer', fleet: 4, tools: [{ tool: 'docs.read', scope: 'docs:read', resource: 'https://docs.globex.example/{acct}/d/{id}' }] },
      c: { role: 'c', type: 'ticket-reader', fleet: 2, tools: [{ tool: 'zendesk.tickets.get', scope: 'tickets:read', resource: 'https://globex.zendesk.example/{acct}/tickets/{id}' }] },
      w: { role: 'w', type: 'emailer', fleet: 2, tools: [{ tool: 'mail.send', scope: 'mail:send', resource: 'mailto:team-{acct}-{id}@globex.example' }] },
    },
    templates: standardTemplates(false),
  },
  {
    domain: 'initech.example',
    humans: ['lena', 'mike', 'nora', 'omar'].map((h) => `${h}@initech.example`),
    teams: 2,
    tasksPerDay: 16,
    accountPrefix: '3333',
    types: {
      lead: { role: 'lead', type: 'triage', fleet: 2, tools: [{ tool: 'jira.search', scope: 'jira:read', resource: 'https://jira.initech.example/{acct}/browse/BUG-{id}' }] },
      a: { role: 'a', type: 'code-search', fleet: 4, tools: [{ tool: 'git.grep', scope: 'repo:read', resource: 'git://initech/{acct}/repo-{id}' }] },
      b: {
        role: 'b', type: 'code-fixer', fleet: 4,
        tools: [
          { tool: 'git.push', scope: 'repo:write', resource: 'git://initech/{acct}/repo-{id}/branches/fix' },
          { tool: 'ci.trigger', scope: 'ci:trigger', resource: 'https://ci.initech.example/{acct}/pipelines/{id}' },
        ],
      },
      c: { role: 'c', type: 'test-runner', fleet: 4, tools: [{ tool: 'ci.results', scope: 'ci:read', resource: 'https://ci.initech.example/{acct}/runs/{id}' }] },
      w: { role: 'w', type: 'deployer', fleet: 2, tools: [{ tool: 'k8s.apply', scope: 'deploy:staging', resource: 'k8s://initech-staging/{acct}/deployments/{id}' }] },
    },
    templates: standardTemplates(false),
  },
];

export function agentId(domain: string, type: string, instance: number): string {
  return `spiffe://${domain}/agent/${type}/i-${instance}`;
}

/** An agent's type identity: its SPIFFE ID without the instance segment. */
export function typeIdOf(agent: string): string {
  return agent.slice(0, agent.lastIndexOf('/'));
}

export function domainOf(agent: string): string {
  return agent.slice('spiffe://'.length).split('/')[0]!;
}
