/**
 * What proving the sender adds to an OTLP request, side by side in one run:
 * decoding a 100-span protobuf request (work every request does anyway)
 * against verifying a JWT-SVID bearer token (per request), judging an mTLS
 * X.509-SVID chain (per connection: cached per socket), and the emitter
 * stage over the request's spans. Run: node --import tsx bench/emitter-auth.ts
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { decodeOtlp } from '../src/ingest/otlp/index.js';
import { resolveIngestLimits } from '../src/ingest/limits.js';
import { peerFromCertificates, peerFromJwtSvid, type PeerTrust } from '../src/ingest/peer-identity.js';
import { emitterReason, parseEmitterAuthPolicy } from '../src/verify/emitter-auth.js';
import { issue, makeCa } from '../test/support/trust-pki.js';
import { makeWorkload } from './workload.js';
import { rate, report } from './stats.js';

const SUB = 'spiffe://co.com/agent/scanner';
const dir = mkdtempSync(join(tmpdir(), 'chainsight-bench-emitter-'));
try {
  const w = await makeWorkload({ chains: 10, spansPerChain: 10, spansPerRequest: 100 });
  const body = w.protobuf[0]!;
  const limits = resolveIngestLimits();
  const ca = makeCa(dir, 'ca');
  const leaf = issue(dir, ca, 'leaf', { san: `URI:${SUB}` });
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const trust: PeerTrust = {
    authorities: () => [ca.cert],
    resolve: (_td, kid) => (kid === 'j1' ? { trustDomain: 'co.com', kid, algorithms: new Set(['ES256']), key: publicKey, use: 'jwt-svid' } : undefined),
  };
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ sub: SUB, aud: 'chainsight' }).setProtectedHeader({ alg: 'ES256', kid: 'j1' }).setIssuedAt(now).setExpirationTime(now + 3600).sign(privateKey);
  const spans = decodeOtlp(body, 'protobuf', limits).spans;
  for (const s of spans) s.peer = { id: s.agentId, method: 'mtls' };
  const policy = parseEmitterAuthPolicy('default=either');

  const decode = await rate(() => decodeOtlp(body, 'protobuf', limits));
  const jwt = await rate(async () => {
    if (!(await peerFromJwtSvid(token, trust, { audiences: ['chainsight'], skewSec: 60 }, Date.now())).ok) throw new Error('token refused');
  });
  const cert = await rate(() => {
    if (!peerFromCertificates([leaf.cert], trust, Date.now()).ok) throw new Error('certificate refused');
  });
  const stage = await rate(() => {
    for (const s of spans) emitterReason(s, policy);
  });
  report({
    spansPerRequest: spans.length,
    decodePerSec: decode.perSec,
    jwtSvidPerSec: jwt.perSec,
    x509SvidPerSec: cert.perSec,
    stagePerSec: stage.perSec,
    jwtOverDecode: decode.perSec / jwt.perSec,
    x509OverDecode: decode.perSec / cert.perSec,
    stageOverDecode: decode.perSec / stage.perSec,
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
