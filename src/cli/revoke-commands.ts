/**
 * `chainsight revoke link|agent|key <id>`, `chainsight revocations` and
 * `chainsight blast-radius link|agent|human <id>`: clients of a running
 * chainsight's API, like `tree`. Through the API rather than the store, so
 * the CLI needs no store credentials and the embedded store (one process per
 * data directory) keeps working while the server runs.
 */
import { Command, InvalidArgumentError } from 'commander';
import { apiBaseUrl } from '../config/config.js';
import { callApi as call, processIo, type CliIo } from './api-client.js';
import { REVOCATION_KINDS } from '../revoke/model.js';
import { BLAST_SUBJECTS, type BlastRadius } from '../revoke/blast-radius.js';

export type RevokeCliIo = CliIo;

function choice(values: readonly string[], what: string) {
  return (v: string) => {
    if (!values.includes(v)) throw new InvalidArgumentError(`${what} must be one of ${values.join(', ')}`);
    return v;
  };
}

/** The blast radius as an incident responder reads it first. */
export function renderBlastRadius(b: BlastRadius): string {
  const lines = [`Blast radius of ${b.subject.kind} ${b.subject.id}`];
  if (b.subject.kind === 'link') lines.push(`  links matched: ${b.links.length}, links delegated from it: ${b.derivedLinks.length}`);
  lines.push(`  chains: ${b.chains.length}${b.truncated ? '+' : ''}   tasks: ${b.tasks.length}   actions: ${b.actions.total} (verified ${b.actions.verified}, flagged ${b.actions.failed})`);
  if (b.actions.first) lines.push(`  from ${b.actions.first} to ${b.actions.last}`);
  if (b.tasks.length) lines.push('', 'Tasks:', ...b.tasks.map((t) => `  ${t.taskId}: ${t.actions} actions${t.failed ? `, ${t.failed} flagged` : ''}`));
  if (b.byAgent.length) {
    lines.push('', 'Agents:');
    for (const a of b.byAgent) {
      lines.push(`  ${a.agent}: ${a.actions} actions${a.failed ? `, ${a.failed} flagged` : ''}`);
      for (const s of a.scopes) lines.push(`    ${s.scope}: ${s.actions}`);
    }
  }
  if (b.byScope.length) lines.push('', 'Scopes:', ...b.byScope.map((s) => `  ${s.scope}: ${s.actions}`));
  return lines.join('\n');
}

export function registerRevokeCommands(program: Command, io: RevokeCliIo = processIo): void {
  const apiOption = '--api <url>';
  const apiHelp = 'query API base URL (env CHAINSIGHT_API_URL, default http://127.0.0.1:8480)';

  program
    .command('revoke')
    .argument('<kind>', REVOCATION_KINDS.join(' | '), choice(REVOCATION_KINDS, 'kind'))
    .argument('<id>', 'link hash or jti, principal, or kid')
    .description('revoke a link (hash or jti: every chain holding it), an agent or human (principal), or a signing key (kid); spans starting from now under a covered chain fail')
    .requiredOption('--reason <text>', 'why (kept with the revocation)')
    .requiredOption('--by <who>', 'who revokes')
    .option('--at <time>', 'an earlier effective time (ISO-8601), e.g. when a key was known compromised')
    .option(apiOption, apiHelp)
    .action(async (kind: string, id: string, opts: { reason: string; by: string; at?: string; api?: string }) => {
      const body = { kind, target: id, reason: opts.reason, revokedBy: opts.by, ...(opts.at !== undefined ? { revokedAt: opts.at } : {}) };
      const out = (await call(io, opts.api ?? apiBaseUrl(), '/api/revocations', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })) as { revocation: { id: string; revokedAtMs: number; expiresAtMs: number } } | undefined;
      if (out === undefined) return;
      const r = out.revocation;
      io.out(`revoked ${kind} ${id}: ${r.id} at ${new Date(r.revokedAtMs).toISOString()}, ${r.expiresAtMs ? `expires ${new Date(r.expiresAtMs).toISOString()}` : 'never expires'}`);
    });

  program
    .command('revocations')
    .description('list revocations, newest first')
    .option('--kind <kind>', `only one kind (${REVOCATION_KINDS.join(', ')})`, choice(REVOCATION_KINDS, '--kind'))
    .option(apiOption, apiHelp)
    .action(async (opts: { kind?: string; api?: string }) => {
      const out = await call(io, opts.api ?? apiBaseUrl(), `/api/revocations${opts.kind ? `?kind=${opts.kind}` : ''}`);
      if (out !== undefined) io.out(JSON.stringify(out, null, 2));
    });

  program
    .command('blast-radius')
    .argument('<kind>', BLAST_SUBJECTS.join(' | '), choice(BLAST_SUBJECTS, 'kind'))
    .argument('<id>', 'link hash or jti, agent SPIFFE ID, or human')
    .description('every chain derived from a link, an agent or a human, and every action under them, across tasks, per agent and scope')
    .option('--json', 'print JSON')
    .option(apiOption, apiHelp)
    .action(async (kind: string, id: string, opts: { json?: boolean; api?: string }) => {
      const out = (await call(io, opts.api ?? apiBaseUrl(), `/api/blast-radius/${kind}/${encodeURIComponent(id)}`)) as BlastRadius | undefined;
      if (out !== undefined) io.out(opts.json ? JSON.stringify(out, null, 2) : renderBlastRadius(out));
    });
}
