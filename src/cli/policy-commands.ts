/**
 * `chainsight policy check <file>`: validate a policy file, every problem with
 * its line. `chainsight policy what-if`: replay the store's decisions of a
 * time range against a draft policy, reading the store as `serve` does (the
 * embedded data directory, or CLICKHOUSE_URL).
 *
 * Exit codes: 0 done (what-if: whatever it found), 1 the policy file does not
 * load, 2 anything else (no store, a bad range, the store failing).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '../config/config.js';

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function fail(code: number, message: string): never {
  process.stderr.write(message.endsWith('\n') ? message : message + '\n');
  process.exit(code);
}

/** The policy file compiled, or exit 1 (2 when it cannot be read) with every problem. */
async function loadOrExit(file: string) {
  const { loadPolicyFile, PolicyLoadError } = await import('../policy/index.js');
  try {
    return await loadPolicyFile(file);
  } catch (e) {
    if (!(e instanceof PolicyLoadError)) throw e;
    const unreadable = e.problems.length === 1 && e.problems[0]!.line === 0;
    return fail(unreadable ? 2 : 1, `${e.message}\n${unreadable ? '' : `${e.problems.length} problem${e.problems.length === 1 ? '' : 's'}: the policy was not loaded\n`}`);
  }
}

interface WhatIfOptions {
  policy: string;
  from?: string;
  to?: string;
  data?: string;
  json?: boolean;
  examples: number;
  limit?: number;
}

export function registerPolicyCommands(program: Command): void {
  const policy = program.command('policy').description('policy engine files: validate one, or see what a draft would change on stored decisions');

  policy
    .command('check <file>')
    .description('validate a policy file (schemas/policy.md): every problem as file:line:column: field: message; exit 1 when it does not load')
    .action(async (file: string) => {
      const p = await loadOrExit(file);
      const d = p.data;
      const rules = 1 + d.depth.length + (d.scopes ? (d.scopes.wildcards ? 2 : 1) : 0) + d.lifetime.length + d.delegation.length + 1 + d.crossDomain.allow.length + d.approval.length;
      process.stdout.write(`${file}: ok: version ${JSON.stringify(d.version)}, revision ${d.revision}, ${rules} rules\n`);
    });

  policy
    .command('what-if')
    .description("replay the stored decisions of a time range (the newest per span) against a draft policy: what it would newly deny or allow, by rule, with examples")
    .requiredOption('--policy <file>', 'the draft policy (YAML, schemas/policy.md)')
    .option('--from <time>', 'spans starting at or after: ISO 8601, ms since the epoch, "now", or a duration ago (24h, 7d); default: the beginning')
    .option('--to <time>', 'spans starting before (same forms); default: no end')
    .option('--data <dir>', 'data directory of the embedded store (env CHAINSIGHT_DATA_DIR; ignored with CLICKHOUSE_URL)')
    .option('--examples <n>', 'examples per rule', positive, 3)
    .option('--limit <n>', 'most decisions replayed (the newest spans first)', positive)
    .option('--json', 'print the report as JSON')
    .action(async (opts: WhatIfOptions) => {
      const draft = await loadOrExit(opts.policy);
      const { parseTimeBound, whatIfReport, WhatIfRangeError } = await import('../policy/what-if-store.js');
      const config = loadConfig(process.env, opts.data !== undefined ? { data: opts.data } : {});
      const target = config.store.target;
      // Reading must not create an empty store where there was none (chdb would).
      if (target.kind === 'embedded' && !existsSync(join(target.dataDir, 'metadata'))) {
        fail(2, `chainsight: no store in ${config.dataDir} (give --data, or CLICKHOUSE_URL for a server)`);
      }
      let range;
      try {
        const now = Date.now();
        range = {
          ...(opts.from !== undefined ? { fromMs: parseTimeBound('--from', opts.from, now) } : {}),
          ...(opts.to !== undefined ? { toMs: parseTimeBound('--to', opts.to, now) } : {}),
          ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
        };
      } catch (e) {
        return fail(2, `chainsight: ${(e as Error).message}`);
      }
      const { openClient } = await import('../store/client.js');
      let client;
      try {
        client = openClient(config.store);
      } catch (e) {
        // chdb holds a data directory for one process: a running `serve` keeps it.
        fail(2, `chainsight: cannot open the store in ${config.dataDir}: ${(e as Error).message}\n(an embedded store is open to one process at a time: stop the chainsight using it, or ask its API)`);
      }
      try {
        const report = await whatIfReport(client, config.store.database, draft, range, { examplesPerRule: opts.examples });
        if (opts.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
        else process.stdout.write((await import('../policy/what-if-text.js')).renderWhatIf(report));
      } catch (e) {
        fail(2, `chainsight: ${e instanceof WhatIfRangeError ? '' : 'what-if failed: '}${(e as Error).message}`);
      } finally {
        await client.close();
      }
    });
}
