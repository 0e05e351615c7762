import { useState } from 'react';
import { ApiError, enc, query, request } from '../api';
import { useApi } from '../use-api';
import { href, navigate } from '../route';
import { when } from '../format';
import type { AlertView } from '../types';
import { AgentLink, Problem } from './common';

const FIELDS = ['state', 'kind', 'severity', 'agent', 'human', 'task'] as const;
const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'];

/** Alerts (the alerts API: schemas/alerts.md): filter, acknowledge, resolve. */
export function AlertsPage({ params }: { params: URLSearchParams }) {
  const filter = Object.fromEntries(FIELDS.map((f) => [f, params.get(f) ?? ''])) as Record<(typeof FIELDS)[number], string>;
  const [form, setForm] = useState(filter);
  const list = useApi<{ alerts: AlertView[]; nextCursor: string | null }>(`/api/alerts${query({ ...filter, limit: 100 })}`);
  const [busy, setBusy] = useState<string>();
  const [actionError, setActionError] = useState<Error>();
  const set = (k: keyof typeof form) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => setForm({ ...form, [k]: e.target.value });
  const act = async (a: AlertView, verb: 'acknowledge' | 'resolve') => {
    const note = window.prompt(`${verb === 'acknowledge' ? 'Acknowledge' : 'Resolve'} "${a.summary}" — note (optional):`) ?? undefined;
    if (note === undefined) return;
    setBusy(a.id);
    setActionError(undefined);
    try {
      await request(`/api/alerts/${enc(a.id)}/${verb}`, { method: 'POST', body: note ? { note } : {} });
      list.reload();
    } catch (err) {
      setActionError(err as Error);
    } finally {
      setBusy(undefined);
    }
  };
  if (list.error instanceof ApiError && list.error.status === 404 && list.error.type.endsWith('not-found')) {
    return <section><h1>Alerts</h1><p className="muted">This server has no alerts API (detection is not part of this build).</p></section>;
  }
  return (
    <section>
      <h1>Alerts</h1>
      <form className="filters card" onSubmit={(e) => { e.preventDefault(); navigate(href(['alerts'], form)); }}>
        <label>State<select value={form.state} onChange={set('state')}><option value="">any</option><option>open</option><option>acknowledged</option><option>resolved</option></select></label>
        <label>Kind<input value={form.kind} onChange={set('kind')} placeholder="delegation.new_edge" /></label>
        <label>Severity ≥<select value={form.severity} onChange={set('severity')}><option value="">any</option>{SEVERITIES.map((s) => <option key={s}>{s}</option>)}</select></label>
        <label>Agent<input value={form.agent} onChange={set('agent')} /></label>
        <label>Human<input value={form.human} onChange={set('human')} /></label>
        <label>Task<input value={form.task} onChange={set('task')} /></label>
        <button type="submit">Filter</button>
      </form>
      <Problem error={list.error} />
      <Problem error={actionError} />
      <table className="grid alerts" aria-label="alerts">
        <thead><tr><th>Severity</th><th>Kind</th><th>Summary</th><th>Task</th><th>Agents</th><th>Last seen</th><th className="num">Count</th><th>State</th><th /></tr></thead>
        <tbody>
          {list.data?.alerts.map((a) => (
            <tr key={a.id} data-alert={a.id}>
              <td><span className={`badge sev-${a.severity}`}>{a.severity}</span></td>
              <td><code>{a.kind}</code></td>
              <td>{a.summary}</td>
              <td>{a.taskId ? <a href={href(['tasks', a.taskId])}>{a.taskId}</a> : '—'}</td>
              <td>{a.agents.map((g) => <span key={g}><AgentLink id={g} /> </span>)}</td>
              <td>{when(a.lastSeen)}</td>
              <td className="num">{a.count}</td>
              <td>{a.state}{a.state === 'acknowledged' && a.acknowledgedBy ? <span className="muted"> by {a.acknowledgedBy}</span> : null}{a.state === 'resolved' && a.resolvedBy ? <span className="muted"> by {a.resolvedBy}</span> : null}</td>
              <td className="actions">
                {a.state === 'open' ? <button disabled={busy === a.id} onClick={() => act(a, 'acknowledge')}>Acknowledge</button> : null}
                {a.state !== 'resolved' ? <button disabled={busy === a.id} onClick={() => act(a, 'resolve')}>Resolve</button> : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.data && list.data.alerts.length === 0 ? <p className="muted">No alert matches.</p> : null}
    </section>
  );
}
