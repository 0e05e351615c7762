/** `chainsight token` commands end to end: keygen → mint → inspect → verify, in a temp dir. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerTokenCommands, tokensFromArgs } from '../../src/cli/token-commands.js';
import { mintExchangeToken } from '../../src/sdk/exchange.js';
import { loadSigningKey } from '../../src/sdk/keys.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chainsight-cli-'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function run(...argv: string[]): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  let code = 0;
  const program = new Command().exitOverride();
  registerTokenCommands(program, { out: (t) => (out += t + '\n'), err: (t) => (err += t + '\n'), exit: (c) => (code = c) });
  await program.parseAsync(argv, { from: 'user' });
  return { out, err, code };
}

const PLANNER = 'spiffe://co.com/agent/planner';
const SCANNER = 'spiffe://co.com/agent/scanner';

test('keygen, mint a 2-link chain, inspect it and verify it', async () => {
  const authz = JSON.parse((await run('token', 'keygen', '--domain', 'co.com', '--authorization', '--dir', dir)).out) as { privateKey: string; role: string; kid: string };
  assert.equal(authz.role, 'authorization');
  assert.equal((await stat(authz.privateKey)).mode & 0o077, 0, 'private key readable by its owner only');
  const planner = JSON.parse((await run('token', 'keygen', '--domain', 'co.com', '--principal', PLANNER, '--dir', dir)).out) as { privateKey: string };

  const rootOut = (await run('token', 'mint', '--key', authz.privateKey, '--sub', PLANNER, '--scope', 'cloud:*', 'reports:write', '--human', 'alice@company.com', '--task', 't-1', '--ttl', '600')).out;
  const rootChain = JSON.parse(rootOut) as string[];
  assert.equal(rootChain.length, 1);
  const chain = JSON.parse((await run('token', 'mint', '--key', planner.privateKey, '--sub', SCANNER, '--scope', 'cloud:read', '--parent', rootOut.trim())).out) as string[];
  assert.equal(chain.length, 2);

  const inspected = JSON.parse((await run('token', 'inspect', ...chain)).out) as { claims: { iss: string; task: string }; times: { exp: string }; header: { kid: string } }[];
  assert.equal(inspected[0]?.claims.iss, 'alice@company.com');
  assert.equal(inspected[0]?.header.kid, authz.kid);
  assert.equal(inspected[1]?.claims.task, 't-1');
  assert.match(inspected[1]?.times.exp ?? '', /^\d{4}-\d\d-\d\dT.*Z \(in \d+ (s|min)\)$/);

  const ok = await run('token', 'verify', '--trust-dir', dir, '--scope-used', 'cloud:read', JSON.stringify(chain));
  assert.equal(ok.code, 0);
  assert.deepEqual(JSON.parse(ok.out), { status: 'verified', reasons: [] });

  const bad = await run('token', 'verify', '--trust-dir', dir, '--scope-used', 'cloud:write', '--at', new Date(Date.now() + 3600_000).toISOString(), ...chain);
  assert.equal(bad.code, 1);
  const verdict = JSON.parse(bad.out) as { status: string; reasons: { code: string }[] };
  assert.equal(verdict.status, 'failed');
  assert.deepEqual(verdict.reasons.map((r) => r.code).sort(), ['scope.exceeded', 'time.expired', 'time.expired']);
});

test('keygen refuses both or neither of --principal and --authorization', async () => {
  await assert.rejects(run('token', 'keygen', '--domain', 'co.com', '--dir', dir), /exactly one of --principal or --authorization/);
  await assert.rejects(run('token', 'keygen', '--domain', 'co.com', '--authorization', '--sts', '--dir', dir), /exactly one of --principal or --authorization \(or --sts\)/);
});

test("keygen --sts makes the STS key; verify judges a token-exchange token as its current actor's action", async () => {
  const d = join(dir, 'sts');
  const sts = JSON.parse((await run('token', 'keygen', '--domain', 'co.com', '--sts', '--dir', d)).out) as { privateKey: string; role: string };
  assert.equal(sts.role, 'sts');
  assert.match(sts.privateKey, /co\.com@sts\.jwk\.json$/);
  const token = await mintExchangeToken({ stsKey: await loadSigningKey(sts.privateKey), human: 'alice@company.com', actors: [PLANNER, SCANNER], scope: ['cloud:read'], task: 't-9', ttlSec: 600 });
  const ok = await run('token', 'verify', '--trust-dir', d, '--scope-used', 'cloud:read', token);
  assert.deepEqual(JSON.parse(ok.out), { status: 'verified', reasons: [] });
  const other = await run('token', 'verify', '--trust-dir', d, '--agent', PLANNER, token);
  assert.equal(other.code, 1);
  assert.deepEqual((JSON.parse(other.out) as { reasons: { code: string }[] }).reasons.map((r) => r.code), ['agent.mismatch']);
});

test('mint refuses scope the parent does not hold', async () => {
  const authz = JSON.parse((await run('token', 'keygen', '--domain', 'x.org', '--authorization', '--dir', dir)).out) as { privateKey: string };
  const p = JSON.parse((await run('token', 'keygen', '--domain', 'x.org', '--principal', 'spiffe://x.org/a', '--dir', dir)).out) as { privateKey: string };
  const root = (await run('token', 'mint', '--key', authz.privateKey, '--sub', 'spiffe://x.org/a', '--scope', 'read', '--human', 'bob', '--task', 't')).out.trim();
  await assert.rejects(run('token', 'mint', '--key', p.privateKey, '--sub', 'spiffe://x.org/b', '--scope', 'write', '--parent', root), /scope write is not covered/);
});

test('tokens may be given one per argument or as one JSON array', () => {
  assert.deepEqual(tokensFromArgs(['a', 'b']), ['a', 'b']);
  assert.deepEqual(tokensFromArgs(['["a","b"]']), ['a', 'b']);
  assert.throws(() => tokensFromArgs(['[1]']), /JSON array of compact JWS/);
});

test('verify names refused bundles and keys of its trust directory on stderr, and still verifies with the rest', async () => {
  const { writeFile } = await import('node:fs/promises');
  const d = await mkdtemp(join(dir, 'refusals-'));
  const authz = JSON.parse((await run('token', 'keygen', '--domain', 'co.com', '--authorization', '--dir', d)).out) as { privateKey: string };
  await writeFile(join(d, 'broken.org.jwks.json'), '{');
  const chain = (await run('token', 'mint', '--key', authz.privateKey, '--sub', PLANNER, '--scope', 'cloud:read', '--human', 'alice@company.com', '--task', 't-2')).out;
  const r = await run('token', 'verify', '--trust-dir', d, chain.trim());
  assert.equal(r.code, 0);
  assert.match(r.err, /trust bundle refused: .*broken\.org\.jwks\.json: invalid JSON/);
  const clean = await run('token', 'verify', '--trust-dir', dir, chain.trim());
  assert.equal(clean.err, '', 'a clean directory prints nothing');
});
