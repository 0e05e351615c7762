import { useState } from 'react';
import { enc, query, request } from '../api';
import { useApi } from '../use-api';
import { href, navigate } from '../route';
import { when } from '../format';
import type { AlertView, TaskSummary } from '../types';
import { Problem } from './common';

const FIELDS = ['human', 'agent', 'verdict', 'from', 'to'] as const;

/** Task search: by human, agent, time and verdict (the API's filters), or by an alert id (opens the alert's task). */
export function TasksPage({ params }: { params: URLSearchParams }) {
  const filter = Object.fromEntries(FIELDS.map((f) => [f, params.get(f) ?? ''])) as Record<(typeof FIELDS)[number], string>;
  const [form, setForm] = useState({ ...filter, alert: '' });
  const [pages, setPages] = useState<string[]>([]);
  const cursor = pages[pages.length - 1];
  const toIso = (v: string) => (v ? new Date(v).toISOString() : undefined);
  const { data, error, loading } = useApi<{ tasks: TaskSummary[]; nextCursor: string | null }>(
    `/api/tasks${query({ human: filter.human, agent: filter.agent, verdict: filter.verdict, from: toIso(filter.from), to: toIso(filter.to), limit: 50, cursor })}`,
  );
  const [alertError, setAlertError] = useState<string>();

  const search = async (e: React.FormEvent) => {
    e.preventDefault();
    setPages([]);
    setAlertError(undefined);
    if (form.alert.trim()) {
      try {
        const a = await request<AlertView>(`/api/alerts/${enc(form.alert.trim())}`);
        if (a.taskId) navigate(href(['tasks', a.taskId]));
        else navigate(href(['alerts'], { id: a.id }));
      } catch (err) {
        setAlertError((err as Error).message);
      }
      return;
    }
    const { alert: _alert, ...rest } = form;
    navigate(href(['tasks'], rest));
  };
  const set = (k: keyof typeof form) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => setForm({ ...form, [k]: e.target.value });

  return (
    <section>
      <h1>Tasks</h1>
      <form className="filters card" onSubmit={search} aria-label="task search">
        <label>Human<input name="human" value={form.human} onChange={set('human')} placeholder="alice@acme.example" /></label>
        <label>Agent<input name="agent" value={form.agent} onChange={set('agent')} placeholder="spiffe://…/agent/…" /></label>
        <label>Verdict
          <select name="verdict" value={form.verdict} onChange={set('verdict')}>
            <option value="">any</option>
            <option value="failed">flagged</option>
            <option value="verified">all verified</option>
          </select>
        </label>
        <label>From<input name="from" type="datetime-local" value={form.from} onChange={set('from')} /></label>
        <label>To<input name="to" type="datetime-local" value={form.to} onChange={set('to')} /></label>
        <label>Alert<input name="alert" value={form.alert} onChange={set('alert')} placeholder="alert id" /></label>
        <button type="submit">Search</button>
      </form>
      {alertError ? <p className="error">Alert: {alertError}</p> : null}
      <Problem error={error} />
      <table className="grid" aria-label="tasks">
        <thead>
          <tr><th>Task</th><th>Requested by</th><th>Purpose</th><th>Requested</th><th>Last action</th><th className="num">Actions</th><th className="num">Agents</th><th>Verdict</th></tr>
        </thead>
        <tbody>
          {data?.tasks.map((t) => (
            <tr key={t.task_id} data-task={t.task_id}>
              <td><a href={href(['tasks', t.task_id])}>{t.task_id}</a></td>
              <td>{t.root_human || <span className="muted">unverified</span>}</td>
              <td>{t.purpose}</td>
              <td>{when(t.requested_at)}</td>
              <td>{when(t.last_action)}</td>
              <td className="num">{t.actions}</td>
              <td className="num">{t.agents}</td>
              <td>{t.failed > 0 ? <span className="badge bad">{t.failed} flagged</span> : <span className="badge ok">verified</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {loading ? <p className="muted">Loading…</p> : data && data.tasks.length === 0 ? <p className="muted">No task matches.</p> : null}
      <div className="pager">
        {pages.length > 0 ? <button onClick={() => setPages(pages.slice(0, -1))}>Previous</button> : null}
        {data?.nextCursor ? <button onClick={() => setPages([...pages, data.nextCursor!])}>Next</button> : null}
      </div>
    </section>
  );
}
