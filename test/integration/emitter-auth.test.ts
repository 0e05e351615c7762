/**
 * Emitter authentication over real TLS: the receiver serves HTTPS, agents
 * prove who they are with X.509-SVIDs (client certificates made with the
 * openssl CLI) or JWT-SVID bearer tokens, and each span's claimed agent is
 * held to its proven sender, per the trust domain's policy:
 * co.com = mtls, partner.example = either, everything else = none.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ExportResultCode } from '@opentelemetry/core';
import { SignJWT } from 'jose';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/runtime/logger.js';
import { startServer, type RunningServer } from '../../src/runtime/server.js';
import { agentSpanAttributes } from '../../src/sdk/telemetry.js';
import { makeTrustDomain, standardChain, TASK, type TestDomain } from '../support/keys.js';
import { recordSpans, serializeSpans } from '../support/otel.js';
import { issue, makeCa, x509Authority, type Pem } from '../support/trust-pki.js';

const PARTNER = 'partner.example';
const partnerId = (name: string) => `spiffe://${PARTNER}/agent/${name}`;

let root: string;
let server: RunningServer;
let co: TestDomain;
let chain: string[];
let tlsCa: Pem;
let coScanner: Pem;
let partnerA: Pem;
let foreign: Pem;
let crossDomain: Pem;
let caAsLeaf: Pem;
const jwtKeys: Record<string, KeyObject> = {};

function jwtSvidJwk(td: string): Record<string, unknown> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  jwtKeys[td] = privateKey;
  return { ...(publicKey.export({ format: 'jwk' }) as object), kid: `jwt-${td}`, use: 'jwt-svid', alg: 'ES256' };
}

async function jwtSvid(sub: string, o: { aud?: string; expSec?: number; td?: string } = {}): Promise<string> {
  const td = o.td ?? new URL(sub).host;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub, aud: o.aud ?? 'chainsight' })
    .setProtectedHeader({ alg: 'ES256', kid: `jwt-${td}`, typ: 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(now + (o.expSec ?? 300))
    .sign(jwtKeys[td]!);
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'chainsight-emitter-'));
  const pki = join(root, 'pki');
  await mkdir(pki);
  const dataDir = join(root, 'data');
  await mkdir(join(dataDir, 'trust'), { recursive: true });
  co = await makeTrustDomain();
  chain = await standardChain(co);
  tlsCa = makeCa(pki, 'otlp-tls-ca');
  const serverCert = issue(pki, tlsCa, 'otlp-server', { san: 'DNS:localhost,IP:127.0.0.1', keyUsage: 'digitalSignature,keyEncipherment' });
  const coCa = makeCa(pki, 'co-svid-ca');
  const partnerCa = makeCa(pki, 'partner-svid-ca');
  const otherCa = makeCa(pki, 'other-ca');
  coScanner = issue(pki, coCa, 'co-scanner', { san: `URI:${co.id('scanner')}` });
  partnerA = issue(pki, partnerCa, 'partner-a', { san: `URI:${partnerId('a')}` });
  // Names a co.com agent, but from a CA no bundle trusts.
  foreign = issue(pki, otherCa, 'foreign', { san: `URI:${co.id('scanner')}` });
  // Names a co.com agent, issued by partner.example's authority: trusted, but not for co.com.
  crossDomain = issue(pki, partnerCa, 'cross-domain', { san: `URI:${co.id('scanner')}` });
  caAsLeaf = issue(pki, coCa, 'ca-as-leaf', { san: `URI:${co.id('scanner')}`, ca: true });

  const coBundle = JSON.parse(await readFile(join(co.dir, 'co.com.jwks.json'), 'utf8')) as { keys: unknown[] };
  coBundle.keys.push(x509Authority(coCa), jwtSvidJwk('co.com'));
  await writeFile(join(dataDir, 'trust', 'co.com.jwks.json'), JSON.stringify(coBundle));
  await writeFile(join(dataDir, 'trust', `${PARTNER}.jwks.json`), JSON.stringify({ keys: [x509Authority(partnerCa), jwtSvidJwk(PARTNER)] }));

  const config = loadConfig({
    ...process.env,
    CLICKHOUSE_URL: process.env.CLICKHOUSE_URL ?? '',
    CHAINSIGHT_OTLP_TLS_CERT: serverCert.certFile,
    CHAINSIGHT_OTLP_TLS_KEY: serverCert.keyFile,
    CHAINSIGHT_EMITTER_AUTH: `default=none,co.com=mtls,${PARTNER}=either`,
  }, { data: dataDir, otlpPort: 0, apiPort: 0 });
  if (process.env.CLICKHOUSE_URL) config.store.database = `emitter_${process.pid}`;
  server = await startServer(config, createLogger('silent'));
});

after(async () => {
  await server?.stop();
  await co?.cleanup();
  await rm(root, { recursive: true, force: true });
});

/** One span named `name` claiming `agentId` (under co.com's valid chain when the agent is its scanner). */
async function body(name: string, agentId: string): Promise<Buffer> {
  const spans = await recordSpans({ 'service.name': 'agent' }, (tracer) => {
    tracer.startSpan(name, {
      attributes: agentSpanAttributes({ chain, taskId: TASK, agentId, agentName: 'x', operation: 'execute_tool', toolName: 'describe', scopesUsed: ['cloud:read'] }),
    }).end();
  });
  return Buffer.from(serializeSpans(spans, 'protobuf'));
}

interface Sent {
  status: number;
  text: string;
}

/** POSTs over HTTPS with node's client: optional client certificate and bearer token. */
function send(payload: Buffer, o: { cert?: Pem; bearer?: string } = {}): Promise<Sent> {
  const url = new URL(`${server.otlpUrl}/v1/traces`);
  return new Promise((resolve, reject) => {
    const req = request({
      host: url.hostname, port: url.port, path: url.pathname, method: 'POST', ca: tlsCa.certPem, servername: 'localhost',
      ...(o.cert ? { cert: o.cert.certPem, key: o.cert.key.export({ type: 'pkcs8', format: 'pem' }) } : {}),
      headers: { 'content-type': 'application/x-protobuf', 'content-length': payload.length, ...(o.bearer ? { authorization: `Bearer ${o.bearer}` } : {}) },
      agent: false,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('latin1') }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

interface Stored {
  agent_id: string;
  peer_id: string;
  verdict: string;
  reasons: string[];
}

async function stored(name: string): Promise<Stored> {
  const p = server.pipeline;
  const rs = await p.readerClient.query({
    query: `SELECT agent_id, peer_id, verdict, reasons FROM ${p.database}.actions WHERE name = {name:String}`,
    query_params: { name },
    format: 'JSONEachRow',
  });
  const rows = (await rs.json()) as Stored[];
  assert.equal(rows.length, 1, `one row for ${name}`);
  return rows[0]!;
}

const emitterReasons = (s: Stored) => s.reasons.filter((r) => r === 'agent.not_sender' || r === 'agent.unauthenticated');

/** Exports through the real OTLP/HTTP exporter over HTTPS, optionally with a client certificate and headers. */
async function exportWithSdk(name: string, agentId: string, o: { cert?: Pem; headers?: Record<string, string> }): Promise<void> {
  const spans = await recordSpans({ 'service.name': 'agent' }, (tracer) => {
    tracer.startSpan(name, {
      attributes: agentSpanAttributes({ chain, taskId: TASK, agentId, agentName: 'x', operation: 'execute_tool', toolName: 'describe', scopesUsed: ['cloud:read'] }),
    }).end();
  });
  const exporter = new OTLPTraceExporter({
    url: `${server.otlpUrl.replace('127.0.0.1', 'localhost')}/v1/traces`,
    headers: o.headers ?? {},
    httpAgentOptions: { ca: tlsCa.certPem, ...(o.cert ? { cert: o.cert.certPem, key: o.cert.key.export({ type: 'pkcs8', format: 'pem' }) as string } : {}) },
  });
  const result = await new Promise<{ code: ExportResultCode; error?: Error }>((r) => exporter.export(spans, r));
  await exporter.shutdown();
  assert.equal(result.code, ExportResultCode.SUCCESS, String(result.error));
}

test('mTLS: agent A with its own X.509-SVID claiming A is verified, and its peer is stored (real OTel exporter)', async () => {
  await exportWithSdk('mtls-a-claims-a', co.id('scanner'), { cert: coScanner });
  const s = await stored('mtls-a-claims-a');
  assert.equal(s.verdict, 'verified', s.reasons.join());
  assert.equal(s.peer_id, co.id('scanner'));
  // And the analyst API shows who sent it.
  const res = await fetch(`${server.apiUrl}/api/tasks/${TASK}/actions`);
  assert.equal(res.status, 200);
  const { actions } = (await res.json()) as { actions: Array<{ name: string; peer_id: string }> };
  assert.equal(actions.find((a) => a.name === 'mtls-a-claims-a')?.peer_id, co.id('scanner'));
});

test("mTLS: agent A's SVID claiming agent B fails agent.not_sender (under a chain valid for B's claim otherwise)", async () => {
  const r = await send(await body('mtls-a-claims-b', co.id('planner')), { cert: coScanner });
  assert.equal(r.status, 200);
  const s = await stored('mtls-a-claims-b');
  assert.equal(s.verdict, 'failed');
  assert.ok(s.reasons.includes('agent.not_sender'), s.reasons.join());
  assert.equal(s.peer_id, co.id('scanner'));
});

test('JWT-SVID bearer: A claiming A passes under `either`; A claiming B fails agent.not_sender (real OTel exporter)', async () => {
  await exportWithSdk('jwt-a-claims-a', partnerId('a'), { headers: { Authorization: `Bearer ${await jwtSvid(partnerId('a'))}` } });
  const ok = await stored('jwt-a-claims-a');
  assert.deepEqual(emitterReasons(ok), []);
  assert.equal(ok.peer_id, partnerId('a'));
  await exportWithSdk('jwt-a-claims-b', partnerId('b'), { headers: { Authorization: `Bearer ${await jwtSvid(partnerId('a'))}` } });
  const bad = await stored('jwt-a-claims-b');
  assert.deepEqual(emitterReasons(bad), ['agent.not_sender']);
});

test('a client certificate from a CA no trust domain holds, from another domain\'s authority, or a CA certificate is refused at the TLS layer', async () => {
  for (const [label, cert] of [['foreign-ca', foreign], ['cross-domain', crossDomain], ['ca-as-leaf', caAsLeaf]] as const) {
    await assert.rejects(send(await body(label, co.id('scanner')), { cert }), (e: NodeJS.ErrnoException) => /ECONNRESET|socket hang up|EPIPE/.test(`${e.code} ${e.message}`), label);
  }
  const metrics = await (await fetch(`${server.apiUrl}/metrics`)).text();
  assert.match(metrics, /^chainsight_otlp_client_certificates_refused_total 3$/m);
  // And the next connection is served as usual.
  assert.equal((await send(await body('after-foreign', 'spiffe://none.example/agent/x'))).status, 200);
});

test('policy mtls: no credential, or a JWT-SVID only, fails agent.unauthenticated (stored flagged, not refused)', async () => {
  assert.equal((await send(await body('mtls-none', co.id('scanner')))).status, 200);
  assert.deepEqual(emitterReasons(await stored('mtls-none')), ['agent.unauthenticated']);
  assert.equal((await send(await body('mtls-jwt-only', co.id('scanner')), { bearer: await jwtSvid(co.id('scanner')) })).status, 200);
  const s = await stored('mtls-jwt-only');
  assert.deepEqual(emitterReasons(s), ['agent.unauthenticated']);
  assert.equal(s.peer_id, co.id('scanner'));
});

test('policy either: an X.509-SVID passes; no credential fails agent.unauthenticated', async () => {
  assert.equal((await send(await body('either-mtls', partnerId('a')), { cert: partnerA })).status, 200);
  assert.deepEqual(emitterReasons(await stored('either-mtls')), []);
  assert.equal((await send(await body('either-none', partnerId('a')))).status, 200);
  assert.deepEqual(emitterReasons(await stored('either-none')), ['agent.unauthenticated']);
});

test('policy none: no credential passes; a proven sender claiming another agent still fails agent.not_sender', async () => {
  assert.equal((await send(await body('none-anon', 'spiffe://none.example/agent/x'))).status, 200);
  const anon = await stored('none-anon');
  assert.deepEqual(emitterReasons(anon), []);
  assert.equal(anon.peer_id, '');
  assert.equal((await send(await body('none-impostor', 'spiffe://none.example/agent/x'), { cert: partnerA })).status, 200);
  assert.deepEqual(emitterReasons(await stored('none-impostor')), ['agent.not_sender']);
});

test('a bearer token that does not verify is answered 401 and nothing is stored', async () => {
  const cases: Array<[string, string]> = [
    ['wrong-aud', await jwtSvid(partnerId('a'), { aud: 'someone-else' })],
    ['expired', await jwtSvid(partnerId('a'), { expSec: -600 })],
    // Signed by co.com's key, claiming a partner workload: keys of one domain never vouch for another.
    ['cross-domain', (await jwtSvid(partnerId('a'), { td: 'co.com' }))],
    ['not-a-jwt', 'abc.def.ghi'],
  ];
  for (const [label, token] of cases) {
    const r = await send(await body(`bad-bearer-${label}`, partnerId('a')), { bearer: token });
    assert.equal(r.status, 401, label);
  }
  // An mTLS peer and a bearer token naming different workloads.
  assert.equal((await send(await body('bad-bearer-mixed', partnerId('a')), { cert: partnerA, bearer: await jwtSvid(co.id('scanner')) })).status, 401);
  const p = server.pipeline;
  const rs = await p.readerClient.query({ query: `SELECT count() AS n FROM ${p.database}.actions WHERE startsWith(name, 'bad-bearer-')`, format: 'JSONEachRow' });
  assert.deepEqual(await rs.json(), [{ n: '0' }]);
});
