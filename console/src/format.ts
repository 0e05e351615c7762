/** Times as the store gives them (UTC, with or without a zone) shown in UTC, to the second. */
export function utcMs(text: string): number {
  const iso = text.includes('T') ? text : text.replace(' ', 'T');
  const trimmed = iso.replace(/(\.\d{3})\d+/, '$1');
  return Date.parse(/(Z|[+-]\d\d:?\d\d)$/.test(trimmed) ? trimmed : `${trimmed}Z`);
}

export function when(text: string | null | undefined): string {
  if (!text) return '—';
  const ms = utcMs(text);
  if (!Number.isFinite(ms) || ms <= 0) return '—';
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + 'Z';
}

export function clock(text: string): string {
  const ms = utcMs(text);
  return Number.isFinite(ms) ? new Date(ms).toISOString().slice(11, 19) : '—';
}

export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 90) return `${s.toFixed(1)} s`;
  const m = s / 60;
  if (m < 90) return `${Math.round(m)} minutes`;
  return `${(m / 60).toFixed(1)} hours`;
}

/** The short name of a SPIFFE agent id (the segment after its kind, as the server names agents). */
export function agentName(id: string): string {
  const m = /^spiffe:\/\/[^/]+\/(.*)$/.exec(id);
  if (!m) return id;
  // spiffe://td/agent/<name>/<instance>: the name after the kind segment.
  const parts = m[1]!.split('/');
  return parts.length > 1 ? parts[1]! : parts[0]!;
}
