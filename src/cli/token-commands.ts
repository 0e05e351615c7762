/**
 * `chainsight token ...`: make keys, mint, inspect and verify delegation
 * chains from the command line.
 */
import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import type { AgentSpan } from '../model/span.js';
import type { Verdict } from '../model/verdict.js';
import { generateKey, loadSigningKey } from '../sdk/keys.js';
import { mintChild, mintRoot } from '../sdk/mint.js';
import { ChainVerifier } from '../verify/chain-verifier.js';
import { defaultPolicy, policyFromJson } from '../verify/policy.js';
import { parseToken, tokenHash } from '../verify/token.js';
import { TrustStore, trustRefusals } from '../verify/trust-store.js';

/** Where the commands write; tests pass their own. */
export interface TokenCliIo {
  out(text: string): void;
  err(text: string): void;
  /** Set the process exit status (default: process.exitCode). */
  exit(code: number): void;
}

const processIo: TokenCliIo = {
  out: (t) => process.stdout.write(t + '\n'),
  err: (t) => process.stderr.write(t + '\n'),
  exit: (c) => {
    process.exitCode = c;
  },
};

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

/** Tokens given as separate arguments, or one JSON array (what `token mint` prints). */
export function tokensFromArgs(args: string[]): string[] {
  if (args.length === 1 && args[0]?.trimStart().startsWith('[')) {
    const parsed: unknown = JSON.parse(args[0]);
    if (!Array.isArray(parsed) || !parsed.every((t) => typeof t === 'string')) throw new InvalidArgumentError('expected a JSON array of compact JWS strings');
    return parsed as string[];
  }
  return args;
}

function relative(sec: number, nowMs: number): string {
  const d = Math.round(sec - nowMs / 1000);
  const abs = Math.abs(d);
  const text = abs < 120 ? `${abs} s` : abs < 7200 ? `${Math.round(abs / 60)} min` : `${(abs / 3600).toFixed(1)} h`;
  return d >= 0 ? `in ${text}` : `${text} ago`;
}

/** Decoded header and claims with readable times; no signature check. */
export function inspectToken(token: string, nowMs = Date.now()): Record<string, unknown> {
  const p = parseToken(token);
  if (!p.ok) return { hash: tokenHash(token), error: p.error };
  const claims = p.token.payload;
  const times: Record<string, string> = {};
  for (const k of ['iat', 'nbf', 'exp']) {
    const v = claims[k];
    if (typeof v === 'number') times[k] = `${new Date(v * 1000).toISOString()} (${relative(v, nowMs)})`;
  }
  return { hash: tokenHash(token), header: p.token.header, claims, times };
}

function lastClaims(tokens: string[]): { sub?: unknown; task?: unknown } {
  const last = tokens[tokens.length - 1];
  const p = last === undefined ? undefined : parseToken(last);
  return p?.ok ? p.token.payload : {};
}

export function registerTokenCommands(program: Command, io: TokenCliIo = processIo): Command {
  const token = program.command('token').description('make keys, mint, inspect and verify delegation links');

  token
    .command('keygen')
    .description('generate an Ed25519 key: public half into <dir>/<domain>.jwks.json, private half into <dir>/private/')
    .requiredOption('--domain <trust-domain>', 'trust domain, e.g. co.com')
    .option('--principal <spiffe-id>', "agent SPIFFE ID the key belongs to")
    .option('--authorization', "make the trust domain's authorization key (signs root links)")
    .option('--sts', "make the trust domain's STS key (signs token-exchange tokens)")
    .requiredOption('--dir <dir>', 'trust directory')
    .option('--private-dir <dir>', 'where the private key goes (default <dir>/private)')
    .action(async (o: { domain: string; principal?: string; authorization?: boolean; sts?: boolean; dir: string; privateDir?: string }) => {
      if ([o.principal !== undefined, o.authorization === true, o.sts === true].filter(Boolean).length !== 1) {
        throw new InvalidArgumentError('give exactly one of --principal or --authorization (or --sts)');
      }
      const g = await generateKey({ dir: o.dir, trustDomain: o.domain, principal: o.principal, authorization: o.authorization ?? false, sts: o.sts ?? false, privateDir: o.privateDir });
      io.out(JSON.stringify({ kid: g.signingKey.kid, trustDomain: o.domain, principal: g.signingKey.principal, role: g.signingKey.role, bundle: g.bundlePath, privateKey: g.privatePath }, null, 2));
    });

  token
    .command('mint')
    .description('mint a root link (with --human) or a child link (with --parent); prints the chain as a JSON array')
    .requiredOption('--key <file>', 'private key file of the signer (authorization key for a root link)')
    .requiredOption('--sub <spiffe-id>', 'delegatee agent')
    .requiredOption('--scope <scopes...>', 'granted scopes')
    .option('--human <account>', 'root link: the human authorizing, e.g. alice@company.com')
    .option('--task <id>', 'root link: the task id')
    .option('--purpose <text>', 'root link: human-readable purpose')
    .option('--parent <jws...>', 'child link: the parent chain (tokens, or one JSON array)')
    .option('--ttl <seconds>', 'lifetime (root default 3600; child default: until the parent expires)', positiveInt)
    .action(async (o: { key: string; sub: string; scope: string[]; human?: string; task?: string; purpose?: string; parent?: string[]; ttl?: number }) => {
      const key = await loadSigningKey(o.key);
      let chain: string[];
      if (o.parent !== undefined) {
        chain = await mintChild({ parentChain: tokensFromArgs(o.parent), signerKey: key, delegatee: o.sub, scope: o.scope, ttlSec: o.ttl });
      } else {
        if (o.human === undefined || o.task === undefined) throw new InvalidArgumentError('a root link needs --human and --task (or give --parent)');
        chain = await mintRoot({ authzKey: key, human: o.human, agent: o.sub, scope: o.scope, task: o.task, purpose: o.purpose, ttlSec: o.ttl ?? 3600 });
      }
      io.out(JSON.stringify(chain));
    });

  token
    .command('inspect')
    .description('decode links (no signature check): header, claims, readable times')
    .argument('<jws...>', 'tokens, or one JSON array')
    .action((args: string[]) => {
      io.out(JSON.stringify(tokensFromArgs(args).map((t) => inspectToken(t)), null, 2));
    });

  token
    .command('verify')
    .description('verify a chain against a trust directory; prints the Verdict as JSON, exit status 1 when it failed')
    .requiredOption('--trust-dir <dir>', 'directory of <trust-domain>.jwks.json bundles')
    .option('--policy <file>', 'verification policy JSON')
    .option('--at <time>', 'when the action happened (ISO 8601; default now)')
    .option('--agent <spiffe-id>', "acting agent (default: the last link's delegatee)")
    .option('--task <id>', "task id (default: the chain's task)")
    .option('--scope-used <scopes>', 'scopes the action used, comma-separated', (v: string) => v.split(',').map((x) => x.trim()).filter((x) => x.length > 0))
    .option('--operation <name>', 'gen_ai.operation.name of the action', 'invoke_agent')
    .argument('<jws...>', 'tokens, root first, or one JSON array')
    .action(async (args: string[], o: { trustDir: string; policy?: string; at?: string; agent?: string; task?: string; scopeUsed?: string[]; operation: string }) => {
      const tokens = tokensFromArgs(args);
      const policy = o.policy ? policyFromJson(JSON.parse(await readFile(o.policy, 'utf8'))) : defaultPolicy();
      const at = o.at === undefined ? Date.now() : Date.parse(o.at);
      if (Number.isNaN(at)) throw new InvalidArgumentError(`--at: not a time: ${o.at}`);
      const trust = await TrustStore.fromDirectory(o.trustDir);
      for (const r of trustRefusals(trust.lastLoad)) io.err(r.text);
      const verifier = new ChainVerifier(trust, policy);
      // A token-exchange token's agent and task are its hops', not its own claims'.
      const check = await verifier.check(tokens);
      const hops = check.evidence === 'sts-token' ? check.links.map((l) => l.claims) : undefined;
      const last = hops?.[hops.length - 1] ?? lastClaims(tokens);
      const root = tokens[0] === undefined ? undefined : parseToken(tokens[0]);
      const rootTask = hops ? hops[0]?.task : root?.ok ? root.token.payload.task : undefined;
      const span: AgentSpan = {
        traceId: '', spanId: '', parentSpanId: '', name: 'cli', kind: 0,
        startNs: `${at}000000`, endNs: `${at}000000`, startMs: at, endMs: at, statusCode: 0, serviceName: 'chainsight-cli',
        taskId: o.task ?? (typeof rootTask === 'string' ? rootTask : ''),
        chain: tokens,
        agentId: o.agent ?? (typeof last.sub === 'string' ? last.sub : ''),
        agentName: '', operation: o.operation, toolName: '', scopesUsed: o.scopeUsed ?? [], resource: '', attributes: {},
      };
      const verdict = (await verifier.verifySpan(span)) as Verdict;
      io.out(JSON.stringify(verdict, null, 2));
      io.exit(verdict.status === 'verified' ? 0 : 1);
    });

  return token;
}
