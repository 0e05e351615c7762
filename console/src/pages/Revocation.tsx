import { useState } from 'react';
import { enc, request } from '../api';
import { useApi } from '../use-api';
import { href, navigate } from '../route';
import { when } from '../format';
import type { BlastRadius, Revocation } from '../types';
import { AgentLink, Problem } from './common';

/** What a link, agent or human reached (blast radius), and revoking it. */
export function RevocationPage({ params }: { params: URLSearchParams }) {
  const kind = params.get('kind') ?? 'agent';
  const id = params.get('id') ?? '';
  const [form, setForm] = useState({ kind, id });
  const blast = useApi<BlastRadius>(id ? `/api/blast-radius/${enc(kind)}/${enc(id)}` : null);
  const revocations = useApi<{ revocations: Revocation[] }>('/api/revocations');
  const [reason, setReason] = useState('');
  const [result, setResult] = useState<{ ok?: Revocation; error?: Error }>({});
  const revokeKind = kind === 'human' ? undefined : kind;
  const revoke = async () => {
    if (!revokeKind || !reason.trim()) return;
    try {
      const r = await request<{ revocation: Revocation }>('/api/revocations', { method: 'POST', body: { kind: revokeKind, target: id, reason: reason.trim(), revokedBy: 'console' } });
      setResult({ ok: r.revocation });
      revocations.reload();
    } catch (error) {
      setResult({ error: error as Error });
    }
  };
  const b = blast.data;
  return (
    <section>
      <h1>Blast radius &amp; revocation</h1>
      <form className="filters card" onSubmit={(e) => { e.preventDefault(); navigate(href(['revocation'], form)); }}>
        <label>Subject<select value={form.kind} onChange={(e) => setForm({ ...form, kind: e.target.value })}><option value="agent">agent</option><option value="link">link (hash or jti)</option><option value="human">human</option></select></label>
        <label className="wide">Id<input value={form.id} onChange={(e) => setForm({ ...form, id: e.target.value })} placeholder="spiffe://…/agent/…" /></label>
        <button type="submit">Show blast radius</button>
      </form>
      <Problem error={blast.error} />
      {b ? (
        <div className="card" data-testid="blast-radius">
          <h2>{b.subject.kind} {b.subject.kind === 'agent' ? <AgentLink id={b.subject.id} /> : <code>{b.subject.id}</code>}</h2>
          <p>{b.actions.total} actions ({b.actions.failed} flagged) from {when(b.actions.first)} to {when(b.actions.last)}, in {b.tasks.length} tasks over {b.chains.length} chains; {b.derivedLinks.length} links delegated below it.{b.truncated ? ' (lists cut at their limit)' : ''}</p>
          <div className="columns">
            <div>
              <h3>Tasks</h3>
              <ul>{b.tasks.map((t) => <li key={t.taskId}><a href={href(['tasks', t.taskId])}>{t.taskId}</a> {t.actions} actions{t.failed ? `, ${t.failed} flagged` : ''}</li>)}</ul>
            </div>
            <div>
              <h3>Agents</h3>
              <ul>{b.byAgent.map((a) => <li key={a.agent}><AgentLink id={a.agent} /> {a.actions} actions: {a.scopes.map((s) => <code key={s.scope} className="scope">{s.scope} ×{s.actions}</code>)}</li>)}</ul>
            </div>
          </div>
          {revokeKind ? (
            <div className="revoke">
              <h3>Revoke this {revokeKind}</h3>
              <p className="muted">Actions under a covered chain that start from now on fail verification (needs the responder role).</p>
              <input aria-label="reason" value={reason} onChange={(e) => setReason(e.target.value)} placeholder="reason (required)" />
              <button className="danger" disabled={!reason.trim()} onClick={revoke}>Revoke</button>
              {result.ok ? <p className="ok">Revoked ({result.ok.id}).</p> : null}
              <Problem error={result.error} />
            </div>
          ) : <p className="muted">A human is not revoked directly: revoke their agents' links or keys.</p>}
        </div>
      ) : null}
      <div className="card">
        <h2>Revocations</h2>
        <Problem error={revocations.error} />
        <table className="grid">
          <thead><tr><th>Kind</th><th>Target</th><th>Reason</th><th>By</th><th>At</th></tr></thead>
          <tbody>
            {revocations.data?.revocations.map((r) => (
              <tr key={r.id}><td>{r.kind}</td><td><code>{r.target}</code></td><td>{r.reason}</td><td>{r.revokedBy}</td><td>{when(new Date(r.revokedAtMs).toISOString())}</td></tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
