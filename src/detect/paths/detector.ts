/**
 * Detector 1: unexpected delegation edges and path shapes, "first seen"
 * style. Four kinds of value are remembered per tenant: edges by agent id,
 * edges by agent type, trust-domain crossings, and path shapes (agent types
 * from the human down). A value not seen within forget-after, in a tenant
 * past its learning period, and not on the allowlist, raises an alert whose
 * id depends only on the tenant and the value (window 0): every processor
 * that meets it derives the same id, and the alert store folds them.
 *
 * Only verified chains teach, and only they alert: a failed chain's links are
 * not proven, so its edges are whatever the sender wrote — letting them alert
 * would let anyone mint alerts at will, and letting them teach would let an
 * attacker pre-seed the baseline. Failed chains are the integrity and policy
 * detectors' subject; an edge first met on a failed chain alerts when it
 * first appears on a verified one.
 */
import type { ActionRow } from '../../correlate/rows.js';
import type { AlertKind, AlertSignal, Severity } from '../alert.js';
import type { DetectionInput, DetectorContext, DetectorOutput, StreamingDetector } from '../detector.js';
import { crossingAllowed, edgeAllowed, EMPTY_ALLOWLIST, pathAllowed, type Allowlist, type EdgeEnd } from './allowlist.js';
import { loadAllowlist } from './allowlist-file.js';
import { pathShape, viewChain, type ChainView } from './chain-view.js';
import { sharedChainHistory, type ChainHistory } from './chain-history.js';
import { FreshChains } from './fresh-chains.js';
import type { PathKind, PathsConfig } from './config.js';
import { FirstSeenMemory, memoryKey, TenantClock } from './learning.js';
import { actionContext, isoOrNever, LinkIndex } from './signal-context.js';


/** A value met for the first time (or again after forget-after), before it becomes a signal. */
export interface Novelty {
  kind: PathKind;
  subject: string;
  /** The edge's position in the chain (delegator's index in `agents`), absent for a path. */
  edge?: number;
  /** When it was last seen before it was forgotten (undefined: never). */
  lastSeenMs: number | undefined;
  /** A path shape that is a proper prefix of the chain's: learned, never raised (the chain's own shape is). */
  prefix?: boolean;
}

export class PathsDetector implements StreamingDetector {
  readonly name = 'paths';
  private readonly clock: TenantClock;
  private readonly memory: FirstSeenMemory;
  private readonly fresh: FreshChains;
  private allowlist: Allowlist;

  constructor(
    private readonly config: PathsConfig,
    allowlist: Allowlist = EMPTY_ALLOWLIST,
  ) {
    this.clock = new TenantClock(config);
    this.memory = new FirstSeenMemory(config.forgetAfterMs, config.maxKeys);
    this.fresh = new FreshChains(config.forgetAfterMs, config.agentTypes);
    this.allowlist = allowlist;
  }

  /** Reads the allowlist file and the verified chains already stored (the last forget-after, or learning, window). */
  async start(ctx: DetectorContext, nowMs: number): Promise<void> {
    if (this.config.allowlistFile !== undefined) {
      const problems: string[] = [];
      this.allowlist = await loadAllowlist(this.config.allowlistFile, problems);
      for (const p of problems) ctx.logger.error({ detector: this.name }, `allowlist: ${p}; what it meant to allow still alerts`);
    }
    const lookback = Math.max(this.config.forgetAfterMs, this.config.learningMs);
    const history = await sharedChainHistory(ctx, nowMs - lookback, this.config.baselineLimit);
    this.learnHistory(history);
    ctx.logger.info(
      { detector: this.name, chains: history.chains.length, tenants: history.tenants.length, truncated: history.truncated, values: this.memory.size },
      'delegation baseline loaded from the store',
    );
  }

  /** Teaches what the store holds, oldest first (so the LRU keeps the newest). Pure. */
  learnHistory(history: ChainHistory): void {
    for (const t of history.tenants) this.clock.see(t.tenant, t.lastMs, t.firstMs);
    const chains = [...history.chains].sort((a, b) => a.lastMs - b.lastMs);
    for (const c of chains) {
      const view = viewChain(c.path, this.config.agentTypes);
      if (view === undefined) continue;
      for (const v of this.values(view)) this.memory.teach(memoryKey(view.tenant, v.kind, v.subject), c.lastMs);
    }
  }

  observe(input: DetectionInput): DetectorOutput {
    const signals: AlertSignal[] = [];
    let links: LinkIndex | undefined;
    const now = input.nowMs;
    for (const { action: a, view } of this.fresh.of(input.actions, now)) {
      const learning = this.clock.see(view.tenant, now);
      const found = this.judge(view, now);
      if (learning || found.length === 0) continue;
      links ??= new LinkIndex(input.delegations);
      for (const n of found) signals.push(this.signal(n, a, view, links, now));
    }
    return { signals };
  }

  /**
   * Records the chain's values and returns those that are new, not
   * allowed, and of a kind raised. A path shape is reported only when every
   * type edge in it was already known: a new type edge (raised as such, or
   * allowed) already explains a new path, so new_path stands for known edges
   * in a new combination, and for a new root agent type. With new_edge_type
   * not raised, new_path reports what it would have explained.
   */
  judge(view: ChainView, now: number): Novelty[] {
    const out: Novelty[] = [];
    // A new type edge that is raised, or allowed, explains a new path.
    let pathExplained = false;
    const ends: EdgeEnd[] = view.agents.map((id, i) => ({ id, type: view.types[i] as string, domain: view.domains[i] as string }));
    for (const v of this.values(view)) {
      const key = memoryKey(view.tenant, v.kind, v.subject);
      const last = this.memory.lastSeen(key);
      const known = this.memory.see(key, now);
      if (known || v.prefix) continue;
      if (v.kind === 'delegation.new_path') {
        if (pathExplained || pathAllowed(this.allowlist, view.types)) continue;
      } else {
        const a = ends[v.edge as number] as EdgeEnd;
        const b = ends[(v.edge as number) + 1] as EdgeEnd;
        const allowed = edgeAllowed(this.allowlist, a, b)
          || (v.kind === 'delegation.new_domain_crossing' && crossingAllowed(this.allowlist, a.domain, b.domain));
        if (v.kind === 'delegation.new_edge_type' && (allowed || this.config.kinds.has(v.kind))) pathExplained = true;
        if (allowed) continue;
      }
      if (this.config.kinds.has(v.kind)) out.push({ ...v, lastSeenMs: last });
    }
    return out;
  }

  /**
   * The chain's values: per edge its id edge, type edge and crossing; then
   * the path shapes, its prefixes first (a verified chain proves each of them
   * a chain too, so a shorter chain along a known one is not new), its own last (see judge).
   */
  private *values(view: ChainView): Generator<Omit<Novelty, 'lastSeenMs'>> {
    for (let i = 0; i + 1 < view.agents.length; i++) {
      yield { kind: 'delegation.new_edge', subject: `${view.agents[i]} -> ${view.agents[i + 1]}`, edge: i };
      yield { kind: 'delegation.new_edge_type', subject: `${view.types[i]} -> ${view.types[i + 1]}`, edge: i };
      if (view.domains[i] !== view.domains[i + 1]) {
        yield { kind: 'delegation.new_domain_crossing', subject: `${view.domains[i]} -> ${view.domains[i + 1]}`, edge: i };
      }
    }
    for (let n = 1; n < view.types.length; n++) yield { kind: 'delegation.new_path', subject: pathShape(view.types.slice(0, n)), prefix: true };
    yield { kind: 'delegation.new_path', subject: pathShape(view.types) };
  }

  private signal(n: Novelty, a: ActionRow, view: ChainView, links: LinkIndex, now: number): AlertSignal {
    const ctx = actionContext(a, view, now);
    const facts: AlertSignal['evidence']['facts'] = {
      tenant: view.tenant,
      first_span: ctx.eventKey,
      path: pathShape(view.types),
      chain_depth: view.depth,
      last_seen_before: isoOrNever(n.lastSeenMs),
      forget_after_days: this.config.forgetAfterMs / 86_400_000,
    };
    const learnedAt = this.clock.learnedAt(view.tenant);
    if (learnedAt !== undefined) facts.learning_ended = isoOrNever(learnedAt);
    let linkIds: string[];
    let summary: string;
    if (n.edge === undefined) {
      linkIds = links.chain(a.task_id, view);
      summary = `new delegation path ${n.subject} in ${view.tenant}`;
    } else {
      const from = view.agents[n.edge] as string;
      const to = view.agents[n.edge + 1] as string;
      const jti = links.jti(a.task_id, from, to);
      linkIds = jti === undefined ? [] : [jti];
      Object.assign(facts, {
        edge: n.subject,
        delegator: from,
        delegatee: to,
        delegator_type: view.types[n.edge] as string,
        delegatee_type: view.types[n.edge + 1] as string,
        link_jti: jti ?? 'not in this batch',
      });
      summary = `${SUMMARY[n.kind]} ${n.subject} (${from} delegated to ${to}) in ${view.tenant}`;
    }
    return { ...ctx, kind: n.kind, severity: this.severityOf(n.kind), subject: n.subject, summary, evidence: { spanIds: [a.span_id], linkIds, facts } };
  }

  private severityOf(kind: AlertKind): Severity {
    const s = this.config.severity;
    if (kind === 'delegation.new_edge') return s.newEdge;
    if (kind === 'delegation.new_edge_type') return s.newEdgeType;
    if (kind === 'delegation.new_domain_crossing') return s.newDomainCrossing;
    return s.newPath;
  }

  /** Sizes for metrics and the README's sizing advice. */
  stats(): { values: number; evicted: number; tenants: number } {
    return { values: this.memory.size, evicted: this.memory.evicted, tenants: this.clock.size };
  }
}

const SUMMARY: Record<PathKind, string> = {
  'delegation.new_edge': 'new delegation edge',
  'delegation.new_edge_type': 'new delegation edge between agent types',
  'delegation.new_domain_crossing': 'first delegation across trust domains',
  'delegation.new_path': 'new delegation path',
};
