import { Command, InvalidArgumentError } from 'commander';
import { apiBaseUrl, apiToken, databaseName, loadConfig, type ChainsightConfig, type ConfigFlags } from '../config/config.js';
import { createLogger } from '../runtime/logger.js';
import { registerTokenCommands } from './token-commands.js';
import { registerPolicyCommands } from './policy-commands.js';
import { registerRevokeCommands } from './revoke-commands.js';
import { registerAlertCommands } from './alert-commands.js';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
}

interface ServeOptions extends ConfigFlags {
  receiver: boolean;
}

// Output piped into `head` and the like: a closed pipe ends the command quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const program = new Command();
program
  .name('chainsight')
  .description('Zero-trust visibility into multi-agent AI systems: verified delegation chains, per-task action trees.');

function storeFlags(cmd: Command): Command {
  return cmd
    .option('--data <dir>', 'data directory for the embedded store and trust bundles (env CHAINSIGHT_DATA_DIR)', undefined)
    .option('--trust-dir <dir>', 'directory of <trust-domain>.jwks.json bundles (env CHAINSIGHT_TRUST_DIR)')
    .option('--policy <file>', 'verification policy JSON (env CHAINSIGHT_POLICY)')
    .option('--rules <file>', "the policy engine's rules, YAML (env CHAINSIGHT_POLICY_RULES; schemas/policy.md)");
}

storeFlags(program.command('serve'))
  .description('run the OTLP/HTTP receiver, the processor and the query API (embedded ClickHouse unless CLICKHOUSE_URL is set)')
  .option('--host <host>', 'address to bind (env CHAINSIGHT_HOST)')
  .option('--otlp-port <port>', 'OTLP/HTTP port (env CHAINSIGHT_OTLP_PORT, default 4318)', port)
  .option('--api-port <port>', 'query API port (env CHAINSIGHT_API_PORT, default 8480)', port)
  .option('--no-receiver', 'serve only the query API (e.g. beside Kafka consumers)')
  .action(async (opts: ServeOptions) => {
    const { startServer } = await import('../runtime/server.js');
    const { config, logger } = configure(opts);
    const hup = reloadOnHangup(logger);
    const server = await startServer(config, logger, { receiver: opts.receiver });
    hup.attach(server.trust);
    stopOnSignal(() => server.stop(), logger);
  });

storeFlags(program.command('consume'))
  .description('run the processor as a Kafka consumer group member (KAFKA_BROKERS) writing to ClickHouse')
  .option('--host <host>', 'address for the metrics endpoint (env CHAINSIGHT_HOST)')
  .option('--api-port <port>', 'port for /metrics and /healthz (env CHAINSIGHT_API_PORT)', port)
  .action(async (opts: ConfigFlags) => {
    const { startConsumer } = await import('../runtime/consumer.js');
    const { config, logger } = configure(opts);
    const hup = reloadOnHangup(logger);
    const consumer = await startConsumer(config, logger);
    hup.attach(consumer.trust);
    stopOnSignal(() => consumer.stop(), logger);
  });

program
  .command('demo')
  .description("run the quarterly infrastructure review: Alice's agents report through the real OTel SDK, chainsight verifies and prints the task tree")
  .option('--data <dir>', 'demo data directory (wiped at start)', './data/demo')
  .option('--actions', 'list every action in the tree, not only per-agent counts')
  .action(async (opts: { data: string; actions?: boolean }) => {
    const { runDemo } = await import('../demo/run.js');
    const ok = await runDemo({ dataDir: opts.data, listActions: opts.actions ?? false });
    process.exit(ok ? 0 : 1);
  });

program
  .command('tree <task-id>')
  .description("print a task's action tree from a running chainsight (its query API)")
  .option('--api <url>', 'query API base URL (env CHAINSIGHT_API_URL, default http://127.0.0.1:8480; a bearer token from env CHAINSIGHT_API_TOKEN)')
  .option('--actions', 'list every action, not only per-agent counts')
  .option('--json', 'print the tree as JSON')
  .action(async (taskId: string, opts: { api?: string; actions?: boolean; json?: boolean }) => {
    const api = opts.api ?? apiBaseUrl();
    const url = new URL(`/api/tasks/${encodeURIComponent(taskId)}/tree`, api);
    if (!opts.json) url.searchParams.set('format', 'text');
    if (opts.actions) url.searchParams.set('actions', 'true');
    const token = apiToken();
    const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {}).catch((err: unknown) => {
      console.error(`chainsight: cannot reach ${api}: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(2);
    });
    const body = await res.text();
    if (!res.ok) {
      console.error(`chainsight: ${res.status} ${body.trim()}`);
      process.exit(1);
    }
    process.stdout.write(body.endsWith('\n') ? body : body + '\n');
  });

program
  .command('ddl')
  .description('print the ClickHouse DDL that start-up applies, migration by migration (for review, or to apply by hand: every statement is idempotent, and the next start records what it finds applied)')
  .option('--layout <layout>', 'single (one server, chdb) or replicated (cluster: replicated local tables + Distributed by task)', 'single')
  .option('--database <name>', 'database name (env CHAINSIGHT_DATABASE, default chainsight)')
  .action(async (opts: { layout: string; database?: string }) => {
    if (opts.layout !== 'single' && opts.layout !== 'replicated') throw new InvalidArgumentError('--layout must be single or replicated');
    const { allStatements } = await import('../store/migrate.js');
    let current: string | null | undefined;
    for (const s of await allStatements(opts.database ?? databaseName(), opts.layout)) {
      if (s.migration !== current) process.stdout.write(`-- ${s.migration ?? 'bootstrap: database and migration ledger'}\n`);
      current = s.migration;
      process.stdout.write(s.sql + ';\n\n');
    }
  });

registerTokenCommands(program);
registerPolicyCommands(program);
registerRevokeCommands(program);
registerAlertCommands(program);

/** Configuration first (a bad one stops here, naming every problem), then a logger at its level. */
function configure(flags: ConfigFlags): { config: ChainsightConfig; logger: ReturnType<typeof createLogger> } {
  const config = loadConfig(process.env, flags);
  const logger = createLogger(config.logLevel);
  if (config.unknownVariables.length > 0) {
    logger.warn({ variables: config.unknownVariables }, 'ignoring unknown CHAINSIGHT_* environment variables (typos?)');
  }
  return { config, logger };
}

/**
 * SIGHUP reloads the trust bundles. Installed before start-up (SIGHUP's default
 * action would kill a starting process); one received meanwhile reloads right
 * after start.
 */
function reloadOnHangup(logger: ReturnType<typeof createLogger>): { attach(trust: { reload(trigger: 'signal'): Promise<unknown> }): void } {
  let target: { reload(trigger: 'signal'): Promise<unknown> } | undefined;
  let missed = false;
  const reload = () => {
    logger.info({ signal: 'SIGHUP' }, 'reloading trust bundles');
    // The reloader logs the outcome, failures included.
    void target?.reload('signal').catch(() => undefined);
  };
  process.on('SIGHUP', () => {
    if (target) reload();
    else missed = true;
  });
  return {
    attach(trust) {
      target = trust;
      if (missed) reload();
    },
  };
}

function stopOnSignal(stop: () => Promise<void>, logger: ReturnType<typeof createLogger>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    stop().then(() => process.exit(0), (err: unknown) => {
      logger.error({ err }, 'error while stopping');
      process.exit(1);
    });
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
}

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`chainsight: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
