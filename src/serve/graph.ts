/**
 * The console's graph, scope-history and chain views, built from store rows.
 * Pure: no I/O, so the rules (what makes an edge invalid or unexpected, what
 * a link's status is) are unit-tested on their own.
 */
import type { ActionChainRow, ActionEdgeRow, LinkEdgeRow, LinkRow, ScopeBucketRow, ScopeUseRow } from '../store/graph-queries.js';
import { agentNameFromId } from '../verify/spiffe.js';
import { ScopeMatcher } from '../verify/scope.js';
import type { ActionChain, ChainLink, DelegationGraph, EdgeMark, GraphEdge, GraphNode, ScopeBucket } from '../model/views.js';

export type { ActionChain, ChainLink, DelegationGraph, EdgeMark, GraphEdge, GraphNode, ScopeBucket } from '../model/views.js';

const edgeKey = (from: string, to: string) => `${from}\u0000${to}`;

/** The subject detection gives a first-seen-edge alert (delegation.new_edge): `from -> to`. */
export const newEdgeSubject = (from: string, to: string) => `${from} -> ${to}`;

/**
 * Joins the links' and the actions' views of every edge, in (from, to)
 * order; `newEdges` holds the subjects of first-seen-edge alerts.
 */
export function buildGraph(linkEdges: LinkEdgeRow[], actionEdges: ActionEdgeRow[], newEdges: ReadonlySet<string> = new Set()): DelegationGraph {
  const edges = new Map<string, GraphEdge & { offChain: number }>();
  const humans = new Set<string>();
  const edge = (from: string, to: string) => {
    const k = edgeKey(from, to);
    let e = edges.get(k);
    if (!e) edges.set(k, (e = { from, to, links: 0, invalidLinks: 0, actions: 0, failedActions: 0, tasks: 0, invalid: false, unexpected: false, marks: [], offChain: 0 }));
    return e;
  };
  for (const l of linkEdges) {
    const e = edge(l.delegator, l.delegatee);
    e.links += Number(l.links);
    e.invalidLinks += Number(l.invalid);
    e.tasks = Math.max(e.tasks, Number(l.tasks));
    if (l.delegator_kind === 'human') humans.add(l.delegator);
  }
  for (const a of actionEdges) {
    const e = edge(a.delegator, a.delegatee);
    e.actions += Number(a.actions);
    e.failedActions += Number(a.failed);
    e.offChain += Number(a.off_chain);
    e.tasks = Math.max(e.tasks, Number(a.tasks));
  }
  const nodes = new Map<string, GraphNode>();
  const node = (id: string) => {
    let n = nodes.get(id);
    if (!n) nodes.set(id, (n = { id, name: humans.has(id) ? id : agentNameFromId(id), kind: humans.has(id) ? 'human' : 'agent', actions: 0, failed: 0 }));
    return n;
  };
  const out: GraphEdge[] = [];
  for (const { offChain, ...e } of edges.values()) {
    e.invalid = e.invalidLinks > 0;
    const ungranted = e.links === 0 && offChain > 0;
    const alerted = newEdges.has(newEdgeSubject(e.from, e.to));
    e.unexpected = ungranted || alerted;
    if (e.invalid) e.marks.push('link.invalid');
    if (e.failedActions > 0) e.marks.push('action.flagged');
    if (ungranted) e.marks.push('edge.unexpected');
    if (alerted) e.marks.push('edge.new');
    node(e.from);
    const to = node(e.to);
    to.actions += e.actions;
    to.failed += e.failedActions;
    out.push(e);
  }
  out.sort((x, y) => (edgeKey(x.from, x.to) < edgeKey(y.from, y.to) ? -1 : 1));
  return { nodes: [...nodes.values()].sort((x, y) => (x.id < y.id ? -1 : 1)), edges: out };
}

/**
 * Buckets with granted against used scope. Coverage is the verifier's own
 * (`ScopeMatcher` with the policy's implications), so a scope reached through
 * an implication (cloud:read → ec2:Describe*) counts as granted and using it
 * counts as using the grant.
 */
export function scopeHistory(buckets: ScopeBucketRow[], uses: ScopeUseRow[], scopes: ScopeMatcher = new ScopeMatcher()): ScopeBucket[] {
  const byStart = new Map<string, ScopeUseRow[]>();
  for (const u of uses) {
    let list = byStart.get(u.start);
    if (!list) byStart.set(u.start, (list = []));
    list.push(u);
  }
  return buckets.map((b) => {
    const used = (byStart.get(b.start) ?? []).map((u) => ({ scope: u.scope, uses: Number(u.uses), covered: scopes.coveredBy(b.granted, u.scope) }));
    return {
      start: b.start, actions: Number(b.actions), failed: Number(b.failed), granted: b.granted, used,
      unused: b.granted.filter((g) => !used.some((u) => scopes.covers(g, u.scope))),
      ungranted: used.filter((u) => !u.covered).map((u) => u.scope),
    };
  });
}

/** Orders the recorded links as the chain lists them and gives each its status. */
export function actionChain(taskId: string, action: ActionChainRow, hashes: string[], rows: LinkRow[]): ActionChain {
  const byHash = new Map(rows.map((r) => [r.link_hash, r]));
  const at = utcMs(action.ts);
  const links = hashes.map((h, i): ChainLink => {
    const r = byHash.get(h);
    if (!r) {
      return { position: i, linkHash: h, jti: '', issuer: '', issuerKind: '', subject: '', scopes: [], issuedAt: '', notBefore: '', expiresAt: '', trustDomain: '', kid: '', alg: '', status: 'unrecorded', expiredAtAction: false };
    }
    const expires = utcMs(r.expires_at);
    return {
      position: i, linkHash: h, jti: r.jti, issuer: r.delegator, issuerKind: r.delegator_kind, subject: r.delegatee, scopes: r.scopes,
      issuedAt: r.issued_at, notBefore: r.not_before, expiresAt: r.expires_at, trustDomain: r.trust_domain, kid: r.kid, alg: r.alg,
      status: r.valid ? 'verified' : 'invalid',
      expiredAtAction: Number.isFinite(at) && Number.isFinite(expires) && expires < at,
    };
  });
  return {
    taskId, spanId: action.span_id, traceId: action.trace_id, ts: action.ts, agentId: action.agent_id, verdict: action.verdict,
    reasons: action.reasons.map((code, i) => ({ code, detail: action.reason_details[i] ?? '' })),
    chainPath: action.chain_path, links,
  };
}

/** A store time in ms: ISO-8601 with a zone, or ClickHouse's zoneless `YYYY-MM-DD hh:mm:ss[.fff…]`, which is UTC. */
export function utcMs(text: string): number {
  const iso = text.includes('T') ? text : text.replace(' ', 'T');
  // Date.parse keeps milliseconds only; nanosecond digits beyond them are cut first.
  const trimmed = iso.replace(/(\.\d{3})\d+/, '$1');
  return Date.parse(/(Z|[+-]\d\d:?\d\d)$/.test(trimmed) ? trimmed : `${trimmed}Z`);
}
