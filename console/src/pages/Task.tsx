import { useEffect, useMemo, useRef, useState } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { enc } from '../api';
import { useApi } from '../use-api';
import { href, navigate } from '../route';
import { clock, duration, utcMs, when } from '../format';
import { agentLanes, flattenTree, type TreeRow } from '../tree-rows';
import type { ActionChain, TaskTree } from '../types';
import { AgentLink, Problem, Verdict } from './common';

const ROW_PX = 28;

/** One task: the delegation tree with every action (virtualised), a timeline, and the chain of the selected action. */
export function TaskPage({ taskId, span }: { taskId: string; span: string | undefined }) {
  const { data: tree, error } = useApi<TaskTree>(`/api/tasks/${enc(taskId)}/tree`);
  return (
    <section className="task">
      <h1>Task <code>{taskId}</code></h1>
      <Problem error={error} />
      {tree ? (
        <>
          <TaskHeader tree={tree} />
          <Timeline tree={tree} taskId={taskId} />
          <div className="split">
            <ActionTree tree={tree} taskId={taskId} span={span} />
            <aside className="chain card" aria-label="chain">
              {span ? <ChainView taskId={taskId} spanId={span} /> : <p className="muted">Select an action to see its delegation chain.</p>}
            </aside>
          </div>
        </>
      ) : null}
    </section>
  );
}

function TaskHeader({ tree }: { tree: TaskTree }) {
  const reasons = Object.entries(tree.failuresByReason).sort((a, b) => b[1] - a[1]);
  return (
    <div className="summary card">
      <div><span className="label">Requested by</span>{tree.rootHuman || <span className="muted">no verified chain</span>}</div>
      <div><span className="label">Purpose</span>{tree.purpose || '—'}</div>
      <div><span className="label">Requested</span>{when(tree.requestedAt)}</div>
      <div><span className="label">Actions</span>{tree.total} across {tree.agentCount} agents</div>
      <div><span className="label">Verified</span><span className="badge ok">{tree.verified}</span></div>
      <div><span className="label">Flagged</span>{tree.failed ? <span className="badge bad">{tree.failed}</span> : <span className="badge ok">0</span>}</div>
      {reasons.length ? (
        <div className="reasons"><span className="label">Why flagged</span>{reasons.map(([r, n]) => <span key={r} className="badge bad">{r} ×{n}</span>)}</div>
      ) : null}
    </div>
  );
}

/** Each agent's active span as a bar on the task's time axis, flagged actions as marks on it. */
function Timeline({ tree, taskId }: { tree: TaskTree; taskId: string }) {
  const lanes = useMemo(() => agentLanes(tree), [tree]);
  const times = lanes.flatMap((l) => [utcMs(l.agent.firstTs), utcMs(l.agent.lastTs)]).filter(Number.isFinite);
  if (times.length === 0) return null;
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const span = Math.max(t1 - t0, 1);
  const pct = (t: string) => `${((utcMs(t) - t0) / span) * 100}%`;
  return (
    <div className="timeline card" aria-label="timeline">
      <div className="axis"><span>{when(new Date(t0).toISOString())}</span><span>{duration(t1 - t0)}</span><span>{when(new Date(t1).toISOString())}</span></div>
      {lanes.map(({ agent, depth, flagged }, i) => (
        <div className="lane" key={`${agent.agentId}-${i}`}>
          <div className="lane-name" style={{ paddingLeft: depth * 12 }}><AgentLink id={agent.agentId} name={agent.agentName} /></div>
          <div className="lane-track">
            <div className={`bar ${agent.failed ? 'has-bad' : ''}`} style={{ left: pct(agent.firstTs), width: `max(2px, calc(${pct(agent.lastTs)} - ${pct(agent.firstTs)}))` }} title={`${agent.actions} actions, ${clock(agent.firstTs)}–${clock(agent.lastTs)}`} />
            {flagged.slice(0, 200).map((a) => (
              <a key={a.spanId} className="mark" style={{ left: pct(a.ts) }} href={href(['tasks', taskId], { span: a.spanId })} title={`${clock(a.ts)} ${a.name}: ${a.reasons.join(', ')}`} aria-label={`flagged ${a.reasons.join(', ')}`} />
            ))}
          </div>
        </div>
      ))}
    </div>
  );
}

function ActionTree({ tree, taskId, span }: { tree: TaskTree; taskId: string; span: string | undefined }) {
  const [collapsed, setCollapsed] = useState<Set<string>>(() => new Set());
  const [onlyFlagged, setOnlyFlagged] = useState(false);
  const rows = useMemo(() => {
    const all = flattenTree(tree, collapsed);
    return onlyFlagged ? all.filter((r) => r.kind === 'agent' || r.action.verdict !== 'verified') : all;
  }, [tree, collapsed, onlyFlagged]);
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_PX, overscan: 12 });
  // A linked action (from the timeline, a search, a shared URL) scrolls into view once.
  const scrolledTo = useRef<string | undefined>(undefined);
  useEffect(() => {
    if (!span || scrolledTo.current === span) return;
    const i = rows.findIndex((r) => r.kind === 'action' && r.action.spanId === span);
    if (i >= 0) {
      virtual.scrollToIndex(i, { align: 'center' });
      scrolledTo.current = span;
    }
  }, [span, rows, virtual]);
  const toggle = (key: string) => setCollapsed((c) => {
    const n = new Set(c);
    if (n.has(key)) n.delete(key);
    else n.add(key);
    return n;
  });
  return (
    <div className="tree card">
      <div className="tree-tools">
        <label><input type="checkbox" checked={onlyFlagged} onChange={(e) => setOnlyFlagged(e.target.checked)} /> flagged actions only</label>
        <span className="muted">{rows.length} rows</span>
      </div>
      <div className="tree-scroll" ref={scroller} data-testid="tree-scroll">
        <div className="tree-inner" style={{ height: virtual.getTotalSize() }}>
          {virtual.getVirtualItems().map((v) => {
            const row = rows[v.index]!;
            return (
              <div key={row.key} className={`row ${row.kind}`} data-row={row.kind} style={{ transform: `translateY(${v.start}px)`, height: ROW_PX }}>
                <RowView row={row} taskId={taskId} selected={row.kind === 'action' && row.action.spanId === span} collapsed={collapsed.has(row.key)} onToggle={() => toggle(row.key)} />
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

function RowView({ row, taskId, selected, collapsed, onToggle }: { row: TreeRow; taskId: string; selected: boolean; collapsed: boolean; onToggle: () => void }) {
  const indent = { paddingLeft: 8 + row.depth * 18 };
  if (row.kind === 'agent') {
    const a = row.agent;
    return (
      <div className="cells" style={indent}>
        <button className="toggle" onClick={onToggle} aria-label={collapsed ? 'expand' : 'collapse'}>{collapsed ? '▸' : '▾'}</button>
        <strong><AgentLink id={a.agentId} name={a.agentName} /></strong>
        <span className="muted">{a.actions} actions over {duration(utcMs(a.lastTs) - utcMs(a.firstTs))}</span>
        <span className="badge ok">✓ {a.verified}</span>
        {a.failed ? <span className="badge bad">✗ {a.failed}</span> : null}
        {row.unattributed ? <span className="badge warn">no chain</span> : <span className="muted scopes">{a.scopesGranted.join(' ')}</span>}
      </div>
    );
  }
  const a = row.action;
  return (
    <a className={`cells action-link ${selected ? 'selected' : ''} ${a.verdict !== 'verified' ? 'flagged' : ''}`} style={indent} href={href(['tasks', taskId], { span: a.spanId })} data-span={a.spanId} data-verdict={a.verdict}>
      <span className="time">{clock(a.ts)}</span>
      <span className="name">{a.tool || a.name}</span>
      <span className="muted resource">{a.resource}</span>
      <Verdict verdict={a.verdict} reasons={a.reasons} />
    </a>
  );
}

function ChainView({ taskId, spanId }: { taskId: string; spanId: string }) {
  const { data, error } = useApi<ActionChain>(`/api/tasks/${enc(taskId)}/actions/${enc(spanId)}/chain`);
  if (error) return <Problem error={error} />;
  if (!data) return <p className="muted">Loading chain…</p>;
  return (
    <div data-testid="chain-view">
      <h2>Action <code>{spanId}</code></h2>
      <p><Verdict verdict={data.verdict} reasons={data.reasons.map((r) => r.code)} /> at {when(data.ts)} by <AgentLink id={data.agentId} /></p>
      {data.reasons.length ? (
        <ul className="reasons-list">{data.reasons.map((r, i) => <li key={i}><code>{r.code}</code> {r.detail}</li>)}</ul>
      ) : null}
      <h3>Delegation chain</h3>
      {data.links.length === 0 ? <p className="muted">No decodable chain was presented.</p> : null}
      <ol className="links">
        {data.links.map((l) => (
          <li key={l.linkHash} className={`link ${l.status}`} data-status={l.status}>
            <div><span className="label">Issuer</span>{l.issuerKind === 'human' ? l.issuer : <AgentLink id={l.issuer} />} → <AgentLink id={l.subject} /></div>
            <div><span className="label">Scope</span>{l.scopes.map((s) => <code key={s} className="scope">{s}</code>)}</div>
            <div><span className="label">Valid</span>{when(l.issuedAt)} → {when(l.expiresAt)} {l.expiredAtAction ? <span className="badge bad">expired at the action</span> : null}</div>
            <div><span className="label">Signature</span>
              {l.status === 'verified' ? <span className="badge ok">verified</span> : l.status === 'invalid' ? <span className="badge bad">failed verification</span> : <span className="badge warn">not recorded</span>}
              <span className="muted"> {l.alg} kid {l.kid}</span>
            </div>
            <div className="muted small">link {l.linkHash.slice(0, 16)}… jti {l.jti}</div>
          </li>
        ))}
      </ol>
      <p><a href={href(['revocation'], { kind: 'agent', id: data.agentId })}>Blast radius of this agent</a>{data.links[0] ? <> · <button className="link" onClick={() => navigate(href(['revocation'], { kind: 'link', id: data.links[data.links.length - 1]!.linkHash }))}>of its last link</button></> : null}</p>
    </div>
  );
}
