/**
 * `chainsight alerts [list|show <id>|ack <id>|resolve <id>]`: a client of a
 * running chainsight's alerts API (schemas/alerts.md §5), like `tree`, with
 * the bearer token of CHAINSIGHT_API_TOKEN when set. Alert text comes from
 * hostile spans: control characters are replaced before reaching a terminal.
 */
import { Command, InvalidArgumentError } from 'commander';
import { apiBaseUrl } from '../config/config.js';
import { callApi as call, printable, processIo, type CliIo } from './api-client.js';
import { ALERT_KINDS, ALERT_STATES, SEVERITIES } from '../detect/alert.js';
import type { AlertDetail, AlertView } from '../alert/store.js';

export type AlertCliIo = CliIo;

function clip(s: string, n: number): string {
  const p = printable(s);
  return p.length <= n ? p : p.slice(0, n - 1) + '…';
}

const when = (iso: string | null) => (iso === null ? '-' : iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z'));

/** The alert list as a table, one alert per line. */
export function renderAlertTable(alerts: readonly AlertView[]): string {
  if (alerts.length === 0) return 'no alerts';
  const header = ['ID', 'SEVERITY', 'STATE', 'KIND', 'COUNT', 'LAST SEEN', 'SUBJECT'];
  const rows = alerts.map((a) => [a.id, a.severity, a.state, a.kind, String(a.count), when(a.lastSeen), clip(a.subject, 80)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

/** One alert as an analyst reads it: what, who, when, evidence, history. */
export function renderAlertDetail(a: AlertDetail): string {
  const lines = [
    `${a.id}  ${a.severity.toUpperCase()}  ${a.state}`,
    `  ${printable(a.summary)}`,
    '',
    `  kind:      ${a.kind}`,
    `  subject:   ${printable(a.subject)}`,
    `  tenant:    ${printable(a.tenant) || '-'}`,
    `  task:      ${printable(a.taskId) || '-'}`,
    `  human:     ${printable(a.human) || '-'}`,
    `  agents:    ${a.agents.map(printable).join(', ') || '-'}`,
    `  chain:     ${printable(a.chainHash) || '-'}`,
    `  trace:     ${printable(a.traceId) || '-'}`,
    `  seen:      ${a.count} time(s), ${when(a.firstSeen)} .. ${when(a.lastSeen)}${a.windowStart ? ` (window from ${when(a.windowStart)})` : ''}`,
  ];
  if (a.acknowledgedBy) lines.push(`  acknowledged by ${printable(a.acknowledgedBy)} at ${when(a.acknowledgedAt)}`);
  if (a.resolvedBy) lines.push(`  resolved by ${printable(a.resolvedBy)} at ${when(a.resolvedAt)}: ${printable(a.resolution ?? '')}`);
  lines.push('', 'Evidence:');
  if (a.evidence.spanIds.length) lines.push(`  spans: ${a.evidence.spanIds.map(printable).join(' ')}`);
  if (a.evidence.linkIds.length) lines.push(`  links: ${a.evidence.linkIds.map(printable).join(' ')}`);
  for (const [k, v] of Object.entries(a.evidence.facts)) lines.push(`  ${printable(k)}: ${clip(typeof v === 'string' ? v : JSON.stringify(v), 200)}`);
  lines.push('', 'History:');
  for (const h of a.history) lines.push(`  ${when(h.at)}  ${h.state.padEnd(12)}  ${printable(h.actor)}${h.note ? `: ${clip(h.note, 200)}` : ''}`);
  return lines.join('\n');
}

function choice(values: readonly string[], what: string) {
  return (v: string) => {
    if (!values.includes(v)) throw new InvalidArgumentError(`${what} must be one of ${values.join(', ')}`);
    return v;
  };
}

function alertIdArg(v: string): string {
  if (!/^[0-9a-f]{32}$/.test(v)) throw new InvalidArgumentError('an alert id is 32 lower-case hex characters (see `chainsight alerts`)');
  return v;
}

interface ListOptions {
  state?: string; kind?: string; severity?: string; agent?: string; human?: string; task?: string;
  since?: string; until?: string; limit?: string; json?: boolean; api?: string;
}

export function registerAlertCommands(program: Command, io: AlertCliIo = processIo): void {
  const apiOption = '--api <url>';
  const apiHelp = 'query API base URL (env CHAINSIGHT_API_URL, default http://127.0.0.1:8480; a bearer token from env CHAINSIGHT_API_TOKEN)';
  const alerts = program.command('alerts').description('alerts raised by detection: list, show, acknowledge, resolve (a running chainsight\'s API)');

  alerts
    .command('list', { isDefault: true })
    .description('alerts, most recently seen first')
    .option('--state <state>', ALERT_STATES.join(' | '), choice(ALERT_STATES, '--state'))
    .option('--kind <kind>', 'one kind of alert (see schemas/alerts.md)', choice(ALERT_KINDS, '--kind'))
    .option('--severity <severity>', `minimum severity (${SEVERITIES.join(', ')})`, choice(SEVERITIES, '--severity'))
    .option('--agent <id>', 'an agent SPIFFE ID involved')
    .option('--human <who>', 'the root human')
    .option('--task <id>', 'a task id')
    .option('--since <time>', 'last seen at or after (ISO-8601)')
    .option('--until <time>', 'first seen before (ISO-8601)')
    .option('--limit <n>', 'at most this many (1-1000)', '100')
    .option('--json', 'print JSON')
    .option(apiOption, apiHelp)
    .action(async (opts: ListOptions) => {
      const q = new URLSearchParams();
      for (const k of ['state', 'kind', 'severity', 'agent', 'human', 'task', 'since', 'until', 'limit'] as const) if (opts[k] !== undefined) q.set(k, opts[k]!);
      const out = (await call(io, opts.api ?? apiBaseUrl(), `/api/alerts?${q}`)) as { alerts: AlertView[]; nextCursor: string | null } | undefined;
      if (out === undefined) return;
      io.out(opts.json ? JSON.stringify(out, null, 2) : renderAlertTable(out.alerts) + (out.nextCursor ? '\n(more: raise --limit or narrow the filters)' : ''));
    });

  alerts
    .command('show')
    .argument('<id>', 'alert id', alertIdArg)
    .description('one alert with its evidence and history')
    .option('--json', 'print JSON')
    .option(apiOption, apiHelp)
    .action(async (id: string, opts: { json?: boolean; api?: string }) => {
      const out = (await call(io, opts.api ?? apiBaseUrl(), `/api/alerts/${id}`)) as AlertDetail | undefined;
      if (out !== undefined) io.out(opts.json ? JSON.stringify(out, null, 2) : renderAlertDetail(out));
    });

  for (const [name, action, past] of [['ack', 'acknowledge', 'acknowledged'], ['resolve', 'resolve', 'resolved']] as const) {
    alerts
      .command(name)
      .argument('<id>', 'alert id', alertIdArg)
      .description(`${action} an alert (role responder); you are recorded as the token's subject`)
      .option('--note <text>', 'why (kept in the history)')
      .option(apiOption, apiHelp)
      .action(async (id: string, opts: { note?: string; api?: string }) => {
        const out = (await call(io, opts.api ?? apiBaseUrl(), `/api/alerts/${id}/${action}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(opts.note === undefined ? {} : { note: opts.note }),
        })) as AlertView | undefined;
        if (out !== undefined) io.out(`${past} ${out.id}: now ${out.state} (${out.severity} ${out.kind}: ${printable(out.subject)})`);
      });
  }
}
