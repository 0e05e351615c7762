import { Graph, layout } from '@dagrejs/dagre';
import type { GraphEdge, GraphNode } from './types';

export interface PlacedNode extends GraphNode { x: number; y: number; w: number; h: number }
export interface PlacedEdge extends GraphEdge { path: string; labelX: number; labelY: number }

const NODE_H = 44;

/** Lays the delegation graph out left to right (humans first, each delegation one rank further) with dagre. */
export function layoutGraph(nodes: GraphNode[], edges: GraphEdge[]): { nodes: PlacedNode[]; edges: PlacedEdge[]; width: number; height: number } {
  const g = new Graph({ multigraph: false, directed: true });
  g.setGraph({ rankdir: 'LR', nodesep: 28, ranksep: 120, edgesep: 18, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
    // Wide enough for the name and for the counts line under it.
  const sub = (n: GraphNode) => (n.kind === 'human' ? 5 : `${n.actions} actions, ${n.failed} flagged`.length);
  for (const n of nodes) g.setNode(n.id, { width: Math.max(120, Math.min(280, Math.max(n.name.length * 8, sub(n) * 6.5) + 30)), height: NODE_H });
  for (const e of edges) g.setEdge(e.from, e.to, { width: 90, height: 18, labelpos: 'c' });
  layout(g);
  const graph = g.graph() as { width?: number; height?: number };
  const placed = nodes.map((n) => {
    const p = g.node(n.id) as { x: number; y: number; width: number; height: number };
    return { ...n, x: p.x, y: p.y, w: p.width, h: p.height };
  });
  const placedEdges = edges.map((e) => {
    const label = g.edge(e.from, e.to) as { points?: Array<{ x: number; y: number }>; x?: number; y?: number };
    const pts = label.points ?? [];
    const path = pts.length ? `M${pts.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' L')}` : '';
    const mid = pts[Math.floor(pts.length / 2)] ?? { x: 0, y: 0 };
    return { ...e, path, labelX: label.x ?? mid.x, labelY: label.y ?? mid.y };
  });
  return { nodes: placed, edges: placedEdges, width: graph.width ?? 800, height: graph.height ?? 400 };
}
