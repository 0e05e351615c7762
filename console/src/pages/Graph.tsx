import { useMemo } from 'react';
import { enc, query } from '../api';
import { useApi } from '../use-api';
import { href, navigate } from '../route';
import { agentName } from '../format';
import { layoutGraph, type PlacedEdge } from '../graph-layout';
import type { EdgeTask, GraphEdge, GraphNode } from '../types';
import { AgentLink, Problem } from './common';

const HOUR = 3_600_000;
const RANGES: Record<string, number> = { '1h': HOUR, '24h': 24 * HOUR, '7d': 7 * 24 * HOUR, '30d': 30 * 24 * HOUR };
/** The range's start, on a minute boundary so the URL of the request stays the same within a minute. */
const rangeStart = (ms: number) => Math.floor((Date.now() - ms) / 60_000) * 60_000;

/** Agents (and the humans at the roots) as nodes, delegations as edges with counts; invalid and unexpected edges marked. Click an edge for its tasks. */
export function GraphPage({ params }: { params: URLSearchParams }) {
  // The graph reads every action in its range: a bounded range by default keeps it cheap on a large store.
  const range = params.get('range') ?? '7d';
  const from = RANGES[range] === undefined ? '' : String(rangeStart(RANGES[range]!));
  const { data, error } = useApi<{ nodes: GraphNode[]; edges: GraphEdge[]; nextCursor: string | null }>(`/api/graph${query({ from })}`);
  const laid = useMemo(() => (data ? layoutGraph(data.nodes, data.edges) : undefined), [data]);
  const selFrom = params.get('edgeFrom');
  const selTo = params.get('edgeTo');
  const select = (e: GraphEdge) => navigate(href(['graph'], { range, edgeFrom: e.from, edgeTo: e.to }));
  return (
    <section>
      <h1>Delegation graph</h1>
      <label className="range">Actions and links of the last{' '}
        <select value={range} onChange={(e) => navigate(href(['graph'], { range: e.target.value }))}>
          {Object.keys(RANGES).map((r) => <option key={r} value={r}>{r}</option>)}
          <option value="all">all time</option>
        </select>
      </label>
      <p className="legend">
        <span className="swatch ok" /> links verified <span className="swatch invalid" /> a link failed verification
        <span className="swatch unexpected" /> unexpected: actions under a delegation no link grants, or a first-seen-edge alert <span className="swatch flagged" /> flagged actions
      </p>
      <Problem error={error} />
      {laid ? (
        <div className="graph card">
          <svg viewBox={`0 0 ${laid.width} ${laid.height}`} style={{ maxWidth: laid.width }} role="img" aria-label="delegation graph">
            <defs>
              <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" className="arrowhead" /></marker>
            </defs>
            {laid.edges.map((e) => <EdgeView key={`${e.from}>${e.to}`} e={e} selected={e.from === selFrom && e.to === selTo} onSelect={() => select(e)} />)}
            {laid.nodes.map((n) => (
              <g key={n.id} className={`node ${n.kind} ${n.failed ? 'has-bad' : ''}`} transform={`translate(${n.x - n.w / 2},${n.y - n.h / 2})`}>
                <a href={n.kind === 'agent' && n.id.startsWith('spiffe://') ? href(['agents', n.id]) : href(['tasks'], { human: n.id })}>
                  <rect width={n.w} height={n.h} rx={n.kind === 'human' ? 22 : 6} />
                  <text x={n.w / 2} y={18} textAnchor="middle" className="node-name">{n.name}</text>
                  <text x={n.w / 2} y={34} textAnchor="middle" className="node-sub">{n.kind === 'human' ? 'human' : `${n.actions} actions${n.failed ? `, ${n.failed} flagged` : ''}`}</text>
                </a>
              </g>
            ))}
          </svg>
        </div>
      ) : null}
      {selFrom && selTo ? <EdgeTasks from={selFrom} to={selTo} since={from} edge={data?.edges.find((e) => e.from === selFrom && e.to === selTo)} /> : null}
    </section>
  );
}

function EdgeView({ e, selected, onSelect }: { e: PlacedEdge; selected: boolean; onSelect: () => void }) {
  const cls = ['edge', e.invalid ? 'invalid' : '', e.unexpected ? 'unexpected' : '', e.failedActions ? 'flagged' : '', selected ? 'selected' : ''].join(' ');
  const label = `${e.links} link${e.links === 1 ? '' : 's'} · ${e.actions} act.`;
  return (
    <g className={cls} data-edge={`${e.from} -> ${e.to}`} onClick={onSelect} role="button" tabIndex={0} aria-label={`edge ${agentName(e.from)} to ${agentName(e.to)}`}
      onKeyDown={(k) => { if (k.key === 'Enter') onSelect(); }}>
      <path d={e.path} className="hit" />
      <path d={e.path} className="line" markerEnd="url(#arrow)" />
      <g transform={`translate(${e.labelX},${e.labelY})`}>
        <rect x={-48} y={-10} width={96} height={20} rx={4} className="edge-label-bg" />
        <text textAnchor="middle" y={4} className="edge-label">{e.unexpected ? '⚠ ' : e.invalid ? '✗ ' : ''}{label}</text>
      </g>
    </g>
  );
}

function EdgeTasks({ from, to, since, edge }: { from: string; to: string; since: string; edge: GraphEdge | undefined }) {
  const { data, error } = useApi<{ tasks: EdgeTask[]; nextCursor: string | null }>(`/api/graph/edges/${enc(from)}/${enc(to)}/tasks${query({ from: since, limit: 200 })}`);
  return (
    <div className="card" aria-label="edge tasks" data-testid="edge-tasks">
      <h2>{from.startsWith('spiffe://') ? <AgentLink id={from} /> : from} → <AgentLink id={to} /></h2>
      {edge ? (
        <p>
          {edge.links} links ({edge.invalidLinks} failed verification), {edge.actions} actions ({edge.failedActions} flagged) in {edge.tasks} tasks.
          {edge.marks.includes('edge.unexpected') ? <span className="badge warn"> unexpected: no link grants this delegation</span> : null}
          {edge.marks.includes('edge.new') ? <span className="badge warn"> unexpected: first seen (a delegation.new_edge alert)</span> : null}
          {edge.invalid ? <span className="badge bad"> invalid link</span> : null}
        </p>
      ) : null}
      <Problem error={error} />
      <table className="grid">
        <thead><tr><th>Task</th><th className="num">Links</th><th className="num">Invalid links</th><th className="num">Actions</th><th className="num">Flagged</th></tr></thead>
        <tbody>
          {data?.tasks.map((t) => (
            <tr key={t.task_id}>
              <td><a href={href(['tasks', t.task_id])}>{t.task_id}</a></td>
              <td className="num">{t.links}</td><td className="num">{t.invalid}</td><td className="num">{t.actions}</td><td className="num">{t.failed}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {data?.nextCursor ? <p className="muted">More tasks: narrow the time range.</p> : null}
    </div>
  );
}
