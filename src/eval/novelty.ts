/**
 * Ground truth for the first-seen and depth detectors, computed from the
 * scenario's own history the way schemas/alerts.md defines novelty: every
 * agent edge, type edge and trust-domain crossing a verified chain carries,
 * learned silently until the learning period ends and new afterwards; a path
 * shape of known type edges never seen before; a chain deeper than its root
 * type ever ran (then usual); a chain over the bound. Pure.
 */
import type { AlertKind } from '../detect/alert.js';
import type { Label, PlannedLink, PlannedSpan } from './plan.js';
import { domainOf, typeIdOf } from './world.js';

/** A link of a task's tree, acted under by its delegatee. */
export interface ChainUse {
  link: number;
  agent: string;
  taskId: string;
  tenant: string;
  /** The injection the task belongs to; undefined for normal traffic. */
  injection?: string;
}

export interface NoveltyOptions {
  learningEndsMs: number;
  depthBound: number;
}

/** The delegatees of a chain, root first. */
export function pathOf(links: readonly PlannedLink[], id: number): string[] {
  const out: string[] = [];
  for (let l: PlannedLink | undefined = links[id]; l; l = l.parent >= 0 ? links[l.parent] : undefined) out.push(l.delegatee);
  return out.reverse();
}

/** What a chain shows a first-seen detector, by alert kind. */
export function chainFacts(path: readonly string[]): Array<[AlertKind, string]> {
  const facts: Array<[AlertKind, string]> = [];
  for (let i = 1; i < path.length; i++) {
    const [a, b] = [path[i - 1]!, path[i]!];
    facts.push(['delegation.new_edge', `${a} -> ${b}`]);
    facts.push(['delegation.new_edge_type', `${typeIdOf(a)} -> ${typeIdOf(b)}`]);
    if (domainOf(a) !== domainOf(b)) facts.push(['delegation.new_domain_crossing', `${domainOf(a)} -> ${domainOf(b)}`]);
  }
  facts.push(['delegation.new_path', path.map(typeIdOf).join(' > ')]);
  return facts;
}

/**
 * Labels for novelty after learning. A chain counts from the batch that
 * first carries a span verified under it. Novelty in an injected task is
 * that injection's; novelty in normal traffic (a new instance, a new agent
 * type) is benign, labeled with every task that carries it.
 */
export function noveltyLabels(uses: readonly ChainUse[], links: readonly PlannedLink[], spans: readonly PlannedSpan[], o: NoveltyOptions): Label[] {
  const firstSeen = new Map<number, number>();
  for (const s of spans) {
    if (s.link < 0 || s.expect.verdict !== 'verified') continue;
    const prev = firstSeen.get(s.link);
    if (prev === undefined || s.receivedAtMs < prev) firstSeen.set(s.link, s.receivedAtMs);
  }
  const seenUses = uses.filter((u) => firstSeen.has(u.link)).sort((a, b) => firstSeen.get(a.link)! - firstSeen.get(b.link)! || a.link - b.link);
  const known = new Set<string>();
  const maxDepth = new Map<string, number>();
  const tasksWith = new Map<string, Set<string>>();
  const byKey = new Map<string, Label>();
  const add = (kind: AlertKind, fact: string, u: ChainUse, story: string) => {
    const key = `${kind}|${fact}`;
    if (byKey.has(key)) return;
    byKey.set(key, { kind, tenant: u.tenant, injection: u.injection ?? null, taskIds: [u.taskId], includes: [], story });
  };
  for (const u of seenUses) {
    const path = pathOf(links, u.link);
    const learning = firstSeen.get(u.link)! < o.learningEndsMs;
    // A new type edge explains a new path: the path is raised only for known type edges in a new combination.
    let typeEdgeNew = false;
    for (const [kind, fact] of chainFacts(path)) {
      const key = `${kind}|${fact}`;
      let tasks = tasksWith.get(key);
      if (!tasks) tasksWith.set(key, (tasks = new Set()));
      tasks.add(u.taskId);
      if (known.has(key)) continue;
      known.add(key);
      if (kind === 'delegation.new_edge_type') typeEdgeNew = true;
      if (learning || (kind === 'delegation.new_path' && typeEdgeNew)) continue;
      add(kind, fact, u, `first ${kind.slice('delegation.new_'.length).replace('_', ' ')}: ${fact}`);
    }
    // Depth: the deepest a root type ran is its usual; a deeper chain after learning is unusual once, then usual.
    const rootType = typeIdOf(path[0]!);
    const usual = maxDepth.get(rootType);
    if (!learning && usual !== undefined && path.length > usual) add('chain.depth_unusual', `${rootType} depth ${path.length}`, u, `depth ${path.length} from ${rootType} (usually at most ${usual})`);
    if (usual === undefined || path.length > usual) maxDepth.set(rootType, path.length);
    if (path.length > o.depthBound) add('chain.depth_exceeded', `${rootType} depth ${path.length}`, u, `depth ${path.length} over the bound ${o.depthBound}`);
  }
  // Benign novelty matches any task that carries it (the first alert may name a task of the same batch).
  for (const [key, label] of byKey) if (label.injection === null) label.taskIds = [...(tasksWith.get(key) ?? label.taskIds)];
  return [...byKey.values()];
}
