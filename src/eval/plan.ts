/**
 * The labeled evaluation scenario as data: weeks of normal multi-agent work
 * in several tenants, with anomalies of every alert kind injected after the
 * learning period, each labeled with the alert it must raise. Pure and
 * deterministic: a function of its options (seed included). Keys, signatures
 * and spans are made from it by src/eval/materialize.ts.
 */
import type { AlertKind } from '../detect/alert.js';
import { Prng } from './prng.js';
import { noveltyLabels, type ChainUse } from './novelty.js';
import {
  HOURLY_CYCLE, PARTNER, TENANTS, WEEKEND_FACTOR, agentId, typeIdOf, type AgentTypeSpec, type Role, type TemplateNode, type TemplateSpec, type TenantSpec, type ToolSpec,
} from './world.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

export interface ScenarioOptions {
  seed: number;
  /** Simulated start (ms), a midnight UTC. */
  startMs: number;
  days: number;
  /** First-seen detectors learn during this many days; anomalies come after it. */
  learningDays: number;
  /** Spans are received (and judged) in batches closing every batchMs. */
  batchMs: number;
  /** The depth bound of the detection config (chain.depth_exceeded above it). */
  depthBound: number;
  /** Scales every tenant's task rate (1 = as in world.ts). */
  load: number;
}

export const DEFAULT_SCENARIO: ScenarioOptions = {
  seed: 7,
  startMs: Date.UTC(2026, 9, 5), // a Monday
  days: 21,
  learningDays: 7,
  batchMs: HOUR,
  depthBound: 4,
  load: 1,
};

/** One delegation link to mint: the root (signed by the domain's authorization key) or a child (signed by its delegator). */
export interface PlannedLink {
  id: number;
  /** Parent link id; -1 for a root. */
  parent: number;
  taskId: string;
  /** Root: the human; child: the delegating agent (whose key signs). */
  issuer: string;
  delegatee: string;
  scope: string[];
  iatMs: number;
  ttlSec: number;
  jti: string;
  purpose: string;
}

export interface SpanExpectation {
  verdict: 'verified' | 'failed';
  /** A reason the verdict must carry when failed. */
  reason?: string;
}

/** One span to emit, acting under the chain ending at `link` (-1: none). */
export interface PlannedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startMs: number;
  endMs: number;
  /** When chainsight receives it: the close of its batch. */
  receivedAtMs: number;
  taskId: string;
  link: number;
  agentId: string;
  agentName: string;
  operation: string;
  toolName: string;
  scopesUsed: string[];
  resource: string;
  attributes: Record<string, string>;
  expect: SpanExpectation;
}

export type InjectionKind =
  | 'cross-team-edge' | 'new-type-edge' | 'new-path' | 'domain-crossing' | 'deep-chain' | 'too-deep-chain' | 'over-provisioned-grant'
  | 'shared-resource-burst' | 'cross-human-resource' | 'runaway-agent' | 'stale-chain-burst' | 'borrowed-chain' | 'reused-jti' | 'long-write-grant';

export interface Injection {
  id: string;
  kind: InjectionKind;
  tenant: string;
  atMs: number;
  story: string;
  taskIds: string[];
}

/**
 * An alert the scenario should raise. `injection` names the anomaly behind
 * it; null marks benign novelty (a legitimately new agent or path raising a
 * first-seen alert, correct by the detector's definition but not an attack),
 * reported apart from anomalies. An alert matches a label when its kind is
 * the label's and either its task is one of `taskIds` or its subject or
 * agents contain one of the strings in `includes`.
 */
export interface Label {
  kind: AlertKind;
  tenant: string;
  injection: string | null;
  taskIds: string[];
  includes: string[];
  story: string;
}

/** A legitimate change of the fleet: a new instance, or a new agent type with its own template. */
export interface FleetChange {
  tenant: string;
  atMs: number;
  story: string;
  agents: string[];
}

export interface Scenario {
  options: ScenarioOptions;
  tenants: readonly TenantSpec[];
  /** Every domain whose keys are needed (tenants and the partner). */
  domains: string[];
  /** Agents that sign links (need a key). */
  signers: string[];
  links: PlannedLink[];
  /** Sorted by received time, then start. */
  spans: PlannedSpan[];
  injections: Injection[];
  fleetChanges: FleetChange[];
  labels: Label[];
  /** End of the learning period (ms). */
  learningEndsMs: number;
  endMs: number;
}

/** A batch as the processor receives it. */
export interface PlannedBatch {
  nowMs: number;
  spans: PlannedSpan[];
}

/** Spans grouped by received time, in order. */
export function batchesOf(s: Scenario): PlannedBatch[] {
  const out: PlannedBatch[] = [];
  for (const span of s.spans) {
    const last = out[out.length - 1];
    if (last && last.nowMs === span.receivedAtMs) last.spans.push(span);
    else out.push({ nowMs: span.receivedAtMs, spans: [span] });
  }
  return out;
}

/** Extra scopes granted to one role in every task of a tenant and never used: the standing over-provisioned grant. */
const OVER_GRANT: Record<string, { role: Role; scopes: string[] }> = {
  'acme.example': { role: 'c', scopes: ['ce:GetReservationUtilization', 'budgets:ModifyBudget'] },
  'globex.example': { role: 'a', scopes: ['warehouse:export', 'storage.objects.delete'] },
  'initech.example': { role: 'w', scopes: ['deploy:production'] },
};

/** The benign new agent type one tenant adopts mid-scenario. */
const NEW_TYPE: { tenant: string; spec: AgentTypeSpec; template: TemplateSpec; afterLearningDays: number } = {
  tenant: 'globex.example',
  spec: { role: 'lead', type: 'translator', fleet: 2, tools: [{ tool: 'translate.text', scope: 'translate:run', resource: 'https://translate.globex.example/{acct}/jobs/{id}' }] },
  template: { name: 'translate', purpose: 'translation', weight: 1.5, root: { role: 'lead', children: [{ role: 'x' as Role, children: [] }] } },
  afterLearningDays: 4,
};

/** Legitimately new instances joining a fleet (team 0) and staying. */
const NEW_INSTANCES: Array<{ tenant: string; role: Role; afterLearningDays: number }> = [
  { tenant: 'acme.example', role: 'a', afterLearningDays: 2 },
  { tenant: 'initech.example', role: 'c', afterLearningDays: 5 },
];

/** A bound tree node: the role's instance chosen for this task. */
interface Bound {
  role: Role | 'partner' | 'x';
  agent: string;
  spec: { type: string; tools: ToolSpec[] };
  children: Bound[];
}

/** Per-task tweaks used by injections. */
interface TaskTweaks {
  /** Every tool action touches this resource, inside [start, start + burstMs). */
  resource?: string;
  burstMs?: number;
  /** Tool actions of the agent of this role (default per role). */
  toolCount?: Partial<Record<string, number>>;
  /** Over a window this long (default 12 min). */
  toolWindowMs?: Partial<Record<string, number>>;
  /** Link lifetime for this role's link (s). */
  ttlSec?: Partial<Record<string, number>>;
  rootTtlSec?: number;
  /** Force the jti of this role's link. */
  jti?: Partial<Record<string, string>>;
  /** Expectation for the spans of this role. */
  expect?: Partial<Record<string, SpanExpectation>>;
  /** Fixed instances by role (instead of a random pick within the team). */
  agents?: Partial<Record<string, string>>;
  /** Skip normal stragglers. */
  noStragglers?: boolean;
}

interface BuiltTask {
  taskId: string;
  human: string;
  tenant: string;
  startMs: number;
  root: Bound;
  /** Link id per agent of the tree. */
  linkOf: Map<string, number>;
  traceId: string;
  /** The server span id per agent (parents for later spans). */
  serverSpan: Map<string, string>;
}

class Builder {
  readonly links: PlannedLink[] = [];
  readonly spans: PlannedSpan[] = [];
  readonly uses: ChainUse[] = [];
  readonly signers = new Set<string>();
  private taskSeq = 0;

  constructor(
    readonly o: ScenarioOptions,
    readonly rng: Prng,
  ) {}

  receivedAt(startMs: number): number {
    return Math.floor(startMs / this.o.batchMs) * this.o.batchMs + this.o.batchMs;
  }

  newTaskId(tenant: TenantSpec): string {
    return `task-${tenant.domain.split('.')[0]}-${(++this.taskSeq).toString().padStart(5, '0')}-${this.rng.hex(4)}`;
  }

  link(l: Omit<PlannedLink, 'id'>): number {
    const id = this.links.length;
    this.links.push({ ...l, id });
    if (l.parent >= 0) this.signers.add(l.issuer);
    return id;
  }

  span(s: Omit<PlannedSpan, 'receivedAtMs' | 'spanId' | 'endMs'> & { durMs: number }): PlannedSpan {
    const { durMs, ...rest } = s;
    const span: PlannedSpan = { ...rest, spanId: this.rng.hex(16), endMs: s.startMs + durMs, receivedAtMs: this.receivedAt(s.startMs) };
    this.spans.push(span);
    return span;
  }
}

/** Scopes a node needs: its own tools' and everything its subtree needs. */
function subtreeScopes(b: Bound, extra: (b: Bound) => string[]): string[] {
  const out = new Set<string>([...b.spec.tools.map((t) => t.scope), ...extra(b)]);
  for (const c of b.children) for (const s of subtreeScopes(c, extra)) out.add(s);
  return [...out].sort();
}

function accountOf(tenant: TenantSpec, human: string): string {
  return `${tenant.accountPrefix}${String(tenant.humans.indexOf(human)).padStart(8, '0')}`;
}

function fill(tool: ToolSpec, acct: string, id: string): string {
  return tool.resource.replace('{acct}', acct).replace('{id}', id);
}

/** The scenario generator: normal traffic hour by hour, injections at their slots, labels from both. */
export function generateScenario(options: Partial<ScenarioOptions> = {}): Scenario {
  const o: ScenarioOptions = { ...DEFAULT_SCENARIO, ...options };
  const rng = new Prng(o.seed);
  const b = new Builder(o, rng.fork('ids'));
  const learningEndsMs = o.startMs + o.learningDays * DAY;
  const endMs = o.startMs + o.days * DAY;
  const fleetChanges: FleetChange[] = [];

  // Fleets: instances by tenant and role, each with the time it joins.
  const fleet = new Map<string, Array<{ agent: string; team: number; fromMs: number }>>();
  const fleetKey = (tenant: string, role: string) => `${tenant}|${role}`;
  for (const t of TENANTS) {
    for (const spec of Object.values(t.types)) {
      fleet.set(fleetKey(t.domain, spec.role), Array.from({ length: spec.fleet }, (_, i) => ({ agent: agentId(t.domain, spec.type, i), team: i % t.teams, fromMs: 0 })));
    }
  }
  fleet.set(fleetKey(PARTNER.domain, 'partner'), Array.from({ length: PARTNER.fleet }, (_, i) => ({ agent: agentId(PARTNER.domain, PARTNER.type, i), team: -1, fromMs: 0 })));
  for (const n of NEW_INSTANCES) {
    const t = TENANTS.find((x) => x.domain === n.tenant)!;
    const list = fleet.get(fleetKey(n.tenant, n.role))!;
    const at = learningEndsMs + n.afterLearningDays * DAY + 9 * HOUR;
    const agent = agentId(t.domain, t.types[n.role].type, list.length);
    list.push({ agent, team: 0, fromMs: at });
    fleetChanges.push({ tenant: n.tenant, atMs: at, agents: [agent], story: `a new ${t.types[n.role].type} instance joins the fleet and stays` });
  }
  const newTypeAt = learningEndsMs + NEW_TYPE.afterLearningDays * DAY + 9 * HOUR;
  {
    const t = TENANTS.find((x) => x.domain === NEW_TYPE.tenant)!;
    const agents = Array.from({ length: NEW_TYPE.spec.fleet }, (_, i) => ({ agent: agentId(t.domain, NEW_TYPE.spec.type, i), team: i % t.teams, fromMs: newTypeAt }));
    fleet.set(fleetKey(t.domain, 'x'), agents);
    fleetChanges.push({ tenant: t.domain, atMs: newTypeAt, agents: agents.map((a) => a.agent), story: `a new agent type (${NEW_TYPE.spec.type}) is adopted with its own task template` });
  }

  const specOf = (t: TenantSpec, role: Bound['role']): Bound['spec'] =>
    role === 'partner' ? { type: PARTNER.type, tools: PARTNER.tools } : role === 'x' ? NEW_TYPE.spec : t.types[role];

  const pickAgent = (r: Prng, t: TenantSpec, role: Bound['role'], team: number, atMs: number): string => {
    const list = fleet.get(fleetKey(role === 'partner' ? PARTNER.domain : t.domain, role))!.filter((i) => i.fromMs <= atMs && (i.team === team || i.team === -1));
    return r.pick(list).agent;
  };

  const bind = (r: Prng, t: TenantSpec, n: TemplateNode, team: number, atMs: number, fixed: TaskTweaks['agents'] = {}): Bound => ({
    role: n.role as Bound['role'],
    agent: fixed[n.role] ?? pickAgent(r, t, n.role as Bound['role'], team, atMs),
    spec: specOf(t, n.role as Bound['role']),
    children: n.children.map((c) => bind(r, t, c, team, atMs, fixed)),
  });

  const teamOf = (t: TenantSpec, human: string) => t.humans.indexOf(human) % t.teams;

  /** Emits one task: links down the tree, each agent's server span, tools, and delegations. */
  const emitTask = (r: Prng, t: TenantSpec, human: string, root: Bound, startMs: number, purpose: string, tw: TaskTweaks = {}, injection?: string): BuiltTask => {
    const taskId = b.newTaskId(t);
    const traceId = r.hex(32);
    const acct = accountOf(t, human);
    const over = OVER_GRANT[t.domain];
    const extra = (x: Bound) => (over && x.role === over.role ? over.scopes : []);
    const task: BuiltTask = { taskId, human, tenant: t.domain, startMs, root, linkOf: new Map(), traceId, serverSpan: new Map() };
    const visit = (node: Bound, parentLink: number, issuer: string, iatMs: number, parentSpan: string, depth: number) => {
      const ttl = depth === 1 ? (tw.rootTtlSec ?? 7200) : (tw.ttlSec?.[node.role] ?? 3600);
      const link = b.link({
        parent: parentLink, taskId, issuer, delegatee: node.agent, scope: subtreeScopes(node, extra), iatMs, ttlSec: ttl,
        jti: tw.jti?.[node.role] ?? r.uuid(), purpose,
      });
      task.linkOf.set(node.agent, link);
      const expect = tw.expect?.[node.role] ?? { verdict: 'verified' };
      const name = node.agent.split('/').slice(-2, -1)[0]!;
      const base = { traceId, taskId, link, agentId: node.agent, agentName: name, attributes: {} as Record<string, string>, expect };
      const server = b.span({ ...base, parentSpanId: parentSpan, name: `invoke_agent ${name}`, kind: 2, startMs: iatMs + r.int(1, 20) * 1000, durMs: 15 * MIN, operation: 'invoke_agent', toolName: '', scopesUsed: [], resource: '' });
      task.serverSpan.set(node.agent, server.spanId);
      const nTools = tw.toolCount?.[node.role] ?? (node.role === 'lead' ? r.int(1, 2) : r.int(3, 8));
      // A burst on one resource: every agent's calls inside [start, start + burstMs), once it holds its link.
      const toolStart = tw.resource ? Math.max(startMs, iatMs + 30_000) : iatMs + 30_000;
      const window = tw.resource ? Math.max(MIN, startMs + (tw.burstMs ?? 8 * MIN) - toolStart) : (tw.toolWindowMs?.[node.role] ?? 12 * MIN);
      for (let i = 0; i < nTools; i++) {
        const tool = r.pick(node.spec.tools);
        const at = toolStart + Math.floor(((i + r.float()) * window) / Math.max(nTools, 1));
        const resource = tw.resource ?? fill(tool, acct, String(r.int(1, 25)));
        b.span({ ...base, parentSpanId: server.spanId, name: `execute_tool ${tool.tool}`, kind: 3, startMs: at, durMs: r.int(200, 3000), operation: 'execute_tool', toolName: tool.tool, scopesUsed: [tool.scope], resource });
      }
      if (node.role === 'lead') {
        for (let i = r.int(1, 3); i > 0; i--) b.span({ ...base, parentSpanId: server.spanId, name: 'chat planning-model', kind: 3, startMs: iatMs + r.int(30, 600) * 1000, durMs: r.int(800, 4000), operation: 'chat', toolName: '', scopesUsed: [], resource: '' });
      }
      // A straggler: now and then an agent's last call lands after its delegation expired (an isolated failure, not an attack).
      if (!tw.noStragglers && depth > 1 && r.chance(0.004)) {
        const tool = r.pick(node.spec.tools);
        b.span({ ...base, expect: { verdict: 'failed', reason: 'time.expired' }, parentSpanId: server.spanId, name: `execute_tool ${tool.tool}`, kind: 3, startMs: iatMs + ttl * 1000 + r.int(2, 30) * MIN, durMs: 500, operation: 'execute_tool', toolName: tool.tool, scopesUsed: [tool.scope], resource: fill(tool, acct, String(r.int(1, 25))) });
      }
      node.children.forEach((child, k) => {
        const at = tw.resource ? iatMs + (1 + k) * 30_000 : iatMs + (2 + 2 * k) * MIN + r.int(0, 60) * 1000;
        const client = b.span({ ...base, parentSpanId: server.spanId, name: `invoke_agent ${child.agent.split('/').slice(-2, -1)[0]}`, kind: 3, startMs: at, durMs: 12 * MIN, operation: 'invoke_agent', toolName: '', scopesUsed: [], resource: '', attributes: { 'chainsight.delegation.target': child.agent } });
        visit(child, link, node.agent, at, client.spanId, depth + 1);
      });
    };
    visit(root, -1, human, startMs, '', 1);
    for (const [agent, link] of task.linkOf) b.uses.push({ link, agent, taskId, tenant: t.domain, injection });
    return task;
  };

  // Normal traffic, hour by hour.
  const normal = rng.fork('normal');
  for (let day = 0; day < o.days; day++) {
    const weekday = new Date(o.startMs + day * DAY).getUTCDay();
    const dayFactor = weekday === 0 || weekday === 6 ? WEEKEND_FACTOR : 1;
    const cycleTotal = HOURLY_CYCLE.reduce((a, x) => a + x, 0);
    for (let hour = 0; hour < 24; hour++) {
      const hourStart = o.startMs + day * DAY + hour * HOUR;
      for (const t of TENANTS) {
        const rate = (t.tasksPerDay * o.load * dayFactor * HOURLY_CYCLE[hour]!) / cycleTotal;
        let n = Math.floor(rate) + (normal.chance(rate - Math.floor(rate)) ? 1 : 0);
        for (; n > 0; n--) {
          const human = normal.pick(t.humans);
          const start = hourStart + normal.int(0, 59) * MIN + normal.int(0, 59) * 1000;
          const templates = t.templates.concat(t.domain === NEW_TYPE.tenant && start >= newTypeAt ? [NEW_TYPE.template] : []);
          const tmpl = templates[normal.weighted(templates.map((x) => x.weight))]!;
          emitTask(normal, t, human, bind(normal, t, tmpl.root, teamOf(t, human), start), start, tmpl.purpose);
        }
      }
    }
  }

  // Injections: every kind once per tenant, at working hours after the learning period.
  const injections: Injection[] = [];
  const windowLabels: Label[] = [];
  const inj = rng.fork('injections');
  const KINDS: InjectionKind[] = [
    'cross-team-edge', 'new-type-edge', 'new-path', 'domain-crossing', 'deep-chain', 'too-deep-chain',
    'shared-resource-burst', 'cross-human-resource', 'runaway-agent', 'stale-chain-burst', 'borrowed-chain', 'reused-jti', 'long-write-grant',
  ];
  const span = o.days - o.learningDays - 1;
  TENANTS.forEach((t, ti) => {
    const order = [...KINDS];
    for (let i = order.length - 1; i > 0; i--) {
      const j = inj.int(0, i);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    order.forEach((kind, k) => {
      const day = o.learningDays + Math.floor(((k + 0.5) * span) / order.length);
      const at = o.startMs + day * DAY + (9 + ((k * 3 + ti * 2) % 8)) * HOUR + inj.int(0, 50) * MIN;
      const id = `${t.domain.split('.')[0]}:${kind}`;
      const made = inject(inj, t, kind, at, id);
      injections.push({ id, kind, tenant: t.domain, atMs: at, story: made.story, taskIds: made.taskIds });
      windowLabels.push(...made.labels.map((l) => ({ ...l, tenant: t.domain, injection: id })));
    });
    const over = OVER_GRANT[t.domain];
    if (over) {
      const id = `${t.domain.split('.')[0]}:over-provisioned-grant`;
      // Every agent holding the extra scopes is over-provisioned: the grantee, and each delegator that passed them on.
      const holders = new Set(b.links.filter((l) => l.scope.some((x) => over.scopes.includes(x))).map((l) => typeIdOf(l.delegatee)));
      const story = `every ${t.types[over.role].type} is granted ${over.scopes.join(', ')} (through ${[...holders].map((h) => h.split('/').pop()).join(', ')}) and never uses them`;
      injections.push({ id, kind: 'over-provisioned-grant', tenant: t.domain, atMs: o.startMs, story, taskIds: [] });
      windowLabels.push({ kind: 'scope.over_provisioned', tenant: t.domain, injection: id, taskIds: [], includes: [...holders].sort(), story });
    }
  });

  function inject(r: Prng, t: TenantSpec, kind: InjectionKind, at: number, id: string): { story: string; taskIds: string[]; labels: Omit<Label, 'tenant' | 'injection'>[] } {
    const human = r.pick(t.humans);
    const team = teamOf(t, human);
    const tmpl = (name: string) => t.templates.find((x) => x.name === name)!.root;
    const n = (role: Role | 'partner', ...children: TemplateNode[]): TemplateNode => ({ role, children });
    const run = (root: TemplateNode, start = at, tw: TaskTweaks = {}, who = human, purpose = 'injected') =>
      emitTask(r, t, who, bind(r, t, root, teamOf(t, who), start, tw.agents), start, purpose, tw, id);
    switch (kind) {
      case 'cross-team-edge': {
        // A lead of one team delegates to a worker of the other team: a new agent edge on a known type edge and path.
        const other = fleet.get(fleetKey(t.domain, 'a'))!.find((i) => i.team !== team && i.fromMs === 0)!.agent;
        const task = run(n('lead', n('a')), at, { agents: { a: other } });
        return { story: `a lead delegates to ${other}, a worker of another team`, taskIds: [task.taskId], labels: [] };
      }
      case 'new-type-edge': {
        const task = run(n('lead', n('w', n('a'))));
        return { story: `a ${t.types.w.type} re-delegates to a ${t.types.a.type} (a type edge never seen)`, taskIds: [task.taskId], labels: [] };
      }
      case 'new-path': {
        const task = run(n('lead', n('b', n('c'))));
        return { story: `lead → ${t.types.b.type} → ${t.types.c.type}: known edges, a path shape never seen`, taskIds: [task.taskId], labels: [] };
      }
      case 'domain-crossing': {
        // The tenant with a legitimate partner crossing reaches into another tenant instead; the others reach the partner for the first time.
        const foreign = t.domain === 'acme.example' ? agentId('globex.example', TENANTS[1]!.types.b.type, 0) : agentId(PARTNER.domain, PARTNER.type, 0);
        const foreignTenant = TENANTS.find((x) => foreign.includes(`//${x.domain}/`));
        const role: Role | 'partner' = foreignTenant ? 'b' : 'partner';
        const root = bind(r, t, n('lead'), team, at);
        root.children.push({ role, agent: foreign, spec: foreignTenant ? foreignTenant.types.b : { type: PARTNER.type, tools: PARTNER.tools }, children: [] });
        const task = emitTask(r, t, human, root, at, 'injected', {}, id);
        return { story: `a lead delegates to ${foreign}, across trust domains for the first time`, taskIds: [task.taskId], labels: [] };
      }
      case 'deep-chain': {
        const task = run(n('lead', n('a', n('b', n('c')))));
        return { story: 'lead → a → b → c: known edges, a chain deeper than this root type ever ran', taskIds: [task.taskId], labels: [] };
      }
      case 'too-deep-chain': {
        const task = run(n('lead', n('a', n('b', n('c', n('w'))))));
        return { story: `a chain of 5 links (bound ${o.depthBound})`, taskIds: [task.taskId], labels: [] };
      }
      case 'shared-resource-burst': {
        const resource = fill(t.types.a.tools[0]!, accountOf(t, human), 'shared-export');
        const tasks = [0, 2, 4].map((m) => run(tmpl('broad'), at + m * MIN, { resource, burstMs: 6 * MIN, noStragglers: true }));
        return {
          story: `one resource (${resource}) touched by every agent of three concurrent tasks within minutes`, taskIds: tasks.map((x) => x.taskId),
          labels: [{ kind: 'resource.many_agents', taskIds: [], includes: [resource], story: 'shared-resource burst' }],
        };
      }
      case 'cross-human-resource': {
        const owner = t.humans.find((h) => h !== human && teamOf(t, h) !== team) ?? t.humans.find((h) => h !== human)!;
        const resource = fill(t.types.c.tools[0]!, accountOf(t, owner), 'ledger-q3');
        const a = run(n('c'), at, { resource, burstMs: 5 * MIN, toolCount: { c: 3 }, noStragglers: true }, owner);
        const x = run(n('c'), at + 10 * MIN, { resource, burstMs: 5 * MIN, toolCount: { c: 2 }, noStragglers: true });
        return {
          story: `${human}'s agent reads ${owner}'s resource while ${owner}'s own task works on it`, taskIds: [a.taskId, x.taskId],
          labels: [{ kind: 'resource.cross_task', taskIds: [], includes: [resource], story: 'agents of two humans on one resource' }],
        };
      }
      case 'runaway-agent': {
        const task = run(tmpl('direct'), at, { toolCount: { b: 300 }, toolWindowMs: { b: 40 * MIN }, noStragglers: true });
        const agent = task.root.agent;
        return { story: `${agent} loops: 300 calls in 40 minutes`, taskIds: [task.taskId], labels: [{ kind: 'agent.rate_spike', taskIds: [], includes: [agent], story: 'runaway agent' }] };
      }
      case 'stale-chain-burst': {
        // A task from four hours ago, then its worker keeps retrying with that long-expired chain.
        const old = run(tmpl('direct'), at - 4 * HOUR);
        const worker = old.root.children[0]!;
        const link = old.linkOf.get(worker.agent)!;
        for (let i = 0; i < 12; i++) {
          const tool = r.pick(worker.spec.tools);
          b.span({
            traceId: old.traceId, parentSpanId: old.serverSpan.get(worker.agent)!, taskId: old.taskId, link, agentId: worker.agent, agentName: worker.spec.type, attributes: {},
            expect: { verdict: 'failed', reason: 'time.expired' }, name: `execute_tool ${tool.tool}`, kind: 3, startMs: at + i * 30_000, durMs: 400,
            operation: 'execute_tool', toolName: tool.tool, scopesUsed: [tool.scope], resource: fill(tool, accountOf(t, old.human), String(r.int(1, 25))),
          });
        }
        return { story: `${worker.agent} retries 12 times in 6 minutes with a chain that expired hours ago`, taskIds: [old.taskId], labels: [{ kind: 'integrity.verification_burst', taskIds: [], includes: [worker.agent], story: 'stale-chain burst' }] };
      }
      case 'borrowed-chain': {
        const task = run(n('lead', n('b'), n('c')));
        const [bNode, cNode] = task.root.children as [Bound, Bound];
        const tool = cNode.spec.tools[0]!;
        b.span({
          traceId: task.traceId, parentSpanId: task.serverSpan.get(cNode.agent)!, taskId: task.taskId, link: task.linkOf.get(bNode.agent)!, agentId: cNode.agent, agentName: cNode.spec.type,
          attributes: {}, expect: { verdict: 'failed', reason: 'agent.mismatch' }, name: `execute_tool ${tool.tool}`, kind: 3, startMs: at + 9 * MIN, durMs: 500,
          operation: 'execute_tool', toolName: tool.tool, scopesUsed: [tool.scope], resource: fill(tool, accountOf(t, human), '7'),
        });
        return { story: `${cNode.agent} presents ${bNode.agent}'s chain`, taskIds: [task.taskId], labels: [{ kind: 'integrity.not_delegatee', taskIds: [task.taskId], includes: [cNode.agent], story: 'borrowed chain' }] };
      }
      case 'reused-jti': {
        const jti = r.uuid();
        const first = run(tmpl('deep'), at, { jti: { a: jti } });
        const second = run(tmpl('deep'), at + 40 * MIN, { jti: { a: jti } }, r.pick(t.humans));
        return { story: `the link id ${jti} appears in two tasks`, taskIds: [first.taskId, second.taskId], labels: [{ kind: 'integrity.link_reuse', taskIds: [first.taskId, second.taskId], includes: [jti], story: 'reused jti' }] };
      }
      case 'long-write-grant': {
        const reason = 'policy.lifetime.write';
        const task = run(n('lead', n('a'), n('w')), at, { rootTtlSec: 4 * 3600, ttlSec: { w: 3 * 3600 }, toolCount: { w: 1 }, expect: { w: { verdict: 'failed', reason } } });
        const writer = task.root.children[1]!.agent;
        return { story: `${writer} is granted a write scope for 3 h (policy: 2 h)`, taskIds: [task.taskId], labels: [{ kind: 'policy.violation', taskIds: [task.taskId], includes: [writer], story: 'long write grant' }] };
      }
      default:
        throw new Error(`no injection for ${kind}`);
    }
  }

  const labels = [...windowLabels, ...noveltyLabels(b.uses, b.links, b.spans, { learningEndsMs, depthBound: o.depthBound })];
  b.spans.sort((x, y) => x.receivedAtMs - y.receivedAtMs || x.startMs - y.startMs);
  const domains = [...TENANTS.map((t) => t.domain), PARTNER.domain];
  return { options: o, tenants: TENANTS, domains, signers: [...b.signers].sort(), links: b.links, spans: b.spans, injections, fleetChanges, labels, learningEndsMs, endMs };
}
