import { useMemo, useState } from 'react';
import { enc, query } from '../api';
import { useApi } from '../use-api';
import { href } from '../route';
import { agentName, clock, when } from '../format';
import type { Delegation, ScopeBucket } from '../types';
import { AgentLink, Problem } from './common';

const BUCKETS: Array<[number, string]> = [[300, '5 minutes'], [3600, '1 hour'], [86400, '1 day']];

/** One agent: its granted scopes against the scopes it used, per time bucket, and the links it issued or received. */
export function AgentPage({ agentId }: { agentId: string }) {
  const [bucket, setBucket] = useState(300);
  const scopes = useApi<{ buckets: ScopeBucket[]; nextCursor: string | null }>(`/api/agents/${enc(agentId)}/scopes${query({ bucket, limit: 200 })}`);
  const links = useApi<{ delegations: Delegation[] }>(`/api/agents/${enc(agentId)}/delegations?limit=100`);
  const buckets = scopes.data?.buckets ?? [];
  const rows = useMemo(() => {
    const all = new Set<string>();
    for (const b of buckets) {
      b.granted.forEach((s) => all.add(s));
      b.used.forEach((u) => all.add(u.scope));
    }
    return [...all].sort();
  }, [buckets]);
  const totals = useMemo(() => {
    const granted = new Set(buckets.flatMap((b) => b.granted));
    const exercised = new Set(buckets.flatMap((b) => b.granted.filter((g) => !b.unused.includes(g))));
    return { neverUsed: [...granted].filter((s) => !exercised.has(s)), ungranted: [...new Set(buckets.flatMap((b) => b.ungranted))] };
  }, [buckets]);
  return (
    <section>
      <h1>Agent {agentName(agentId)}</h1>
      <p className="muted"><code>{agentId}</code> · <a href={href(['tasks'], { agent: agentId })}>its tasks</a> · <a href={href(['revocation'], { kind: 'agent', id: agentId })}>blast radius</a></p>
      <div className="card">
        <h2>Granted against used scope</h2>
        <label>Bucket <select value={bucket} onChange={(e) => setBucket(Number(e.target.value))}>{BUCKETS.map(([s, l]) => <option key={s} value={s}>{l}</option>)}</select></label>
        <p>
          {totals.neverUsed.length ? <>Granted, never used: {totals.neverUsed.map((s) => <code key={s} className="scope unused">{s}</code>)} </> : null}
          {totals.ungranted.length ? <>Used without a grant: {totals.ungranted.map((s) => <code key={s} className="scope ungranted">{s}</code>)}</> : null}
        </p>
        <Problem error={scopes.error} />
        <div className="scope-grid-wrap">
          <table className="scope-grid" aria-label="scopes over time">
            <thead><tr><th>Scope</th>{buckets.map((b) => <th key={b.start} title={when(b.start)}>{clock(b.start).slice(0, 5)}<br /><span className="muted">{b.actions}{b.failed ? ` / ${b.failed}✗` : ''}</span></th>)}</tr></thead>
            <tbody>
              {rows.map((s) => (
                <tr key={s}>
                  <th><code>{s}</code></th>
                  {buckets.map((b) => {
                    const use = b.used.find((u) => u.scope === s);
                    const granted = b.granted.includes(s);
                    // A granted scope counts as used when anything used in the bucket falls under it (implications included).
                    const cls = use ? (use.covered ? 'used' : 'ungranted') : granted ? (b.unused.includes(s) ? 'unused' : 'used') : 'none';
                    const text = use ? String(use.uses) : granted ? (cls === 'used' ? '✓' : '·') : '';
                    return <td key={b.start} className={cls} title={`${s}: ${cls}${use ? `, ${use.uses} uses` : ''}`}>{text}</td>;
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <p className="legend"><span className="swatch used" /> granted and used (✓: used through a narrower scope it implies) <span className="swatch unused" /> granted, unused <span className="swatch ungranted" /> used without a grant</p>
      </div>
      <div className="card">
        <h2>Links issued or received</h2>
        <Problem error={links.error} />
        <table className="grid">
          <thead><tr><th>Issuer</th><th>Delegatee</th><th>Scope</th><th>Issued</th><th>Expires</th><th>Status</th><th>Task</th></tr></thead>
          <tbody>
            {links.data?.delegations.map((d) => (
              <tr key={d.link_hash}>
                <td>{d.delegator.startsWith('spiffe://') ? <AgentLink id={d.delegator} /> : d.delegator}</td>
                <td><AgentLink id={d.delegatee} /></td>
                <td>{d.scopes.map((s) => <code key={s} className="scope">{s}</code>)}</td>
                <td>{when(d.issued_at)}</td><td>{when(d.expires_at)}</td>
                <td>{d.valid ? <span className="badge ok">verified</span> : <span className="badge bad">invalid</span>}</td>
                <td><a href={href(['tasks', d.task_id])}>{d.task_id}</a></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
