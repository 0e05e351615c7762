import { AuthRequired } from '../api';
import { href } from '../route';
import { agentName } from '../format';

export function Problem({ error }: { error: Error | undefined }) {
  if (!error || error instanceof AuthRequired) return null;
  return <p className="error" role="alert">{error.message}</p>;
}

export function Verdict({ verdict, reasons }: { verdict: string; reasons?: string[] }) {
  if (verdict === 'verified') return <span className="badge ok">verified</span>;
  return <span className="badge bad" title={reasons?.join(', ')}>{reasons && reasons.length ? reasons.join(', ') : 'flagged'}</span>;
}

export function AgentLink({ id, name }: { id: string; name?: string }) {
  if (!id.startsWith('spiffe://')) return <span title={id}>{name || id}</span>;
  return <a href={href(['agents', id])} title={id}>{name || agentName(id)}</a>;
}
