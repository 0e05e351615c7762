/**
 * What a span must say about itself to be judged (schemas/span-attributes.md,
 * delegation-token.md §4.2): its operation, spelled exactly as the GenAI
 * conventions spell it; scopes for every operation that acts on something;
 * and, without a usable chain, every check that needs no link still runs.
 * Real jose-signed chains; spans as decoded by the real OTLP decoder where
 * the ingest limits are concerned.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Verdict } from '../../src/model/verdict.js';
import type { AgentSpan } from '../../src/model/span.js';
import { decodeOtlp } from '../../src/ingest/otlp/index.js';
import { resolveIngestLimits } from '../../src/ingest/limits.js';
import { agentSpanAttributes } from '../../src/sdk/telemetry.js';
import { ChainVerifier } from '../../src/verify/chain-verifier.js';
import { SCOPED_OPERATIONS, WELL_KNOWN_OPERATIONS, operationKind } from '../../src/verify/operation.js';
import { defaultPolicy } from '../../src/verify/policy.js';
import { mintRoot } from '../../src/sdk/mint.js';
import { HUMAN, TASK, makeTrustDomain, spanFor, standardChain, type TestDomain } from '../support/keys.js';
import { recordSpans, serializeSpans } from '../support/otel.js';

const NOW = Math.floor(Date.now() / 1000) * 1000;
const AT = NOW + 1000;

let d: TestDomain;
let good: string[];
let verifier: ChainVerifier;

before(async () => {
  d = await makeTrustDomain();
  good = await standardChain(d, { now: NOW });
  verifier = new ChainVerifier(await d.trust(), defaultPolicy());
});
after(() => d.cleanup());

function verify(over: Partial<AgentSpan>, chain: string[] | null = good): Verdict {
  return verifier.verifySpan(spanFor(chain, { startMs: AT, ...over })) as Verdict;
}
function codes(v: Verdict): string[] {
  return v.reasons.map((r) => (r.link === undefined ? r.code : `${r.code}@${r.link}`)).sort();
}

describe('operationKind', () => {
  test('the well-known names, exactly as the conventions spell them', () => {
    for (const op of WELL_KNOWN_OPERATIONS) assert.equal(operationKind(op), SCOPED_OPERATIONS.has(op) ? 'scoped' : 'unscoped', op);
    assert.deepEqual([...SCOPED_OPERATIONS].sort(), ['execute_tool', 'retrieval']);
  });

  test('other spellings of a known name are malformed, never another operation', () => {
    const lookalikes = [
      'Execute_Tool', 'EXECUTE_TOOL', ' execute_tool', 'execute_tool ', 'execute_tool\n', 'execute tool', 'execute-tool',
      'execute.tool', '\u0435x\u0435cute_tool' /* Cyrillic е */, 'execute_t\u043Eol' /* Cyrillic о */, 'execute\u200b_tool',
      '\uFF45xecute_tool' /* fullwidth e */, 'exe\u0301cute_tool', '_execute_tool', '1execute_tool', 'x'.repeat(65),
    ];
    for (const op of lookalikes) assert.equal(operationKind(op), 'malformed', JSON.stringify(op));
  });

  test('a well-formed name the conventions do not define must declare scopes; no name is missing', () => {
    for (const op of ['plan', 'executetool', 'execute_tool_v2', 'x'.repeat(64)]) assert.equal(operationKind(op), 'scoped', op);
    assert.equal(operationKind(''), 'missing');
  });
});

describe('span.operation_missing and span.operation_malformed', () => {
  test('a tool call with its operation verifies; without one it fails closed', () => {
    assert.equal(verify({ operation: 'execute_tool' }).status, 'verified');
    assert.deepEqual(codes(verify({ operation: '' })), ['span.operation_missing']);
    assert.deepEqual(codes(verify({ operation: '', scopesUsed: [] })), ['span.operation_missing']);
  });

  test('a look-alike of execute_tool fails closed, with or without scopes', () => {
    for (const op of ['Execute_Tool', 'execute_tool ', '\u0435x\u0435cute_tool', 'execute\u200b_tool']) {
      assert.deepEqual(codes(verify({ operation: op })), ['span.operation_malformed'], JSON.stringify(op));
      assert.deepEqual(codes(verify({ operation: op, scopesUsed: [] })), ['span.operation_malformed'], JSON.stringify(op));
    }
  });

  test('the message quotes the name escaped and short', () => {
    const v = verify({ operation: 'Execute_Tool\u0000' + 'y'.repeat(500) });
    const message = v.reasons[0]?.message ?? '';
    assert.match(message, /"Execute_Tool\\u0000y+…"/);
    assert.ok(message.length < 200, message);
  });
});

describe('scope.undeclared covers every operation that acts on something', () => {
  test('execute_tool and retrieval must declare their scopes', () => {
    for (const op of ['execute_tool', 'retrieval']) {
      assert.equal(verify({ operation: op }).status, 'verified', op);
      assert.deepEqual(codes(verify({ operation: op, scopesUsed: [] })), ['scope.undeclared'], op);
    }
  });

  test('an unknown but well-formed operation is judged by the scopes it declares', () => {
    assert.equal(verify({ operation: 'plan' }).status, 'verified');
    assert.deepEqual(codes(verify({ operation: 'plan', scopesUsed: [] })), ['scope.undeclared']);
    assert.deepEqual(codes(verify({ operation: 'plan', scopesUsed: ['iam:CreateUser'] })), ['scope.exceeded']);
    assert.match(verify({ operation: 'plan', scopesUsed: [] }).reasons[0]?.message ?? '', /not a GenAI well-known operation/);
  });

  test('used scopes compare exactly: another spelling of a granted scope is not covered', () => {
    assert.equal(verify({ scopesUsed: ['cloud:read'] }).status, 'verified');
    for (const scope of ['Cloud:Read', 'cloud:read ', 'cloud:read\u200b', 'cl\u043Eud:read']) {
      assert.deepEqual(codes(verify({ scopesUsed: [scope] })), ['scope.exceeded'], JSON.stringify(scope));
    }
  });

  test('an empty used scope is no scope: never covered, not even by *', async () => {
    const all = await mintRoot({ authzKey: d.authz, human: HUMAN, agent: d.id('scanner'), scope: ['*'], task: TASK, ttlSec: 600, now: NOW });
    assert.equal(verify({ scopesUsed: ['anything:at_all'] }, all).status, 'verified');
    assert.deepEqual(codes(verify({ scopesUsed: [''] }, all)), ['scope.exceeded']);
    assert.deepEqual(codes(verify({ scopesUsed: ['cloud:read', ''] })), ['scope.exceeded']);
    assert.match(verify({ scopesUsed: [''] }).reasons[0]?.message ?? '', /used "" beyond/);
  });

  test('the other well-known operations need not declare scopes, but what they declare is checked', () => {
    for (const op of WELL_KNOWN_OPERATIONS.filter((o) => !SCOPED_OPERATIONS.has(o))) {
      assert.equal(verify({ operation: op, scopesUsed: [] }).status, 'verified', op);
      assert.deepEqual(codes(verify({ operation: op, scopesUsed: ['iam:CreateUser'] })), ['scope.exceeded'], op);
    }
  });
});

describe('a span without a usable chain still gets every check that needs no link', () => {
  test('chain.missing alone when the rest is sound; with everything else that is wrong otherwise', () => {
    assert.deepEqual(codes(verify({}, null)), ['chain.missing']);
    assert.deepEqual(codes(verify({ agentId: '', taskId: '', operation: '' }, null)), ['agent.missing', 'chain.missing', 'span.operation_missing', 'task.missing']);
    assert.deepEqual(codes(verify({ scopesUsed: [] }, null)), ['chain.missing', 'scope.undeclared']);
    assert.deepEqual(codes(verify({ operation: 'Execute_Tool', chainError: { code: 'chain.malformed', message: 'not an array' } }, null)), ['chain.malformed', 'span.operation_malformed']);
  });

  test('verifyDetailed gives the same verdict, with no summary', () => {
    const r = verifier.verifyDetailed(spanFor(null, { startMs: AT, taskId: '' }));
    assert.deepEqual(codes(r.verdict), ['chain.missing', 'task.missing']);
    assert.deepEqual([r.summary, r.chainHash, r.check], [null, '', null]);
  });

  test('a chain fault wins over a chain that is also set (fail closed)', () => {
    assert.deepEqual(codes(verify({ chainError: { code: 'chain.malformed', message: 'x' } }, good)), ['chain.malformed']);
  });
});

describe('a chain past the ingest limits gets the reason §4.1 names, not chain.malformed', () => {
  // Decoded by the real OTLP decoder from spans the real SDK recorded.
  async function decoded(chain: unknown, limits = resolveIngestLimits({ maxChainLinks: 4, maxChainLinkLength: 2048 })): Promise<AgentSpan> {
    const attrs = { ...agentSpanAttributes({ chain: good, taskId: TASK, agentId: d.id('scanner'), agentName: 'scanner', operation: 'execute_tool', toolName: 't', scopesUsed: ['cloud:read'] }) };
    attrs['chainsight.delegation.chain'] = chain as string[];
    const spans = await recordSpans({ 'service.name': 'scanner' }, (tracer) => tracer.startSpan('execute_tool t', { startTime: AT, attributes: attrs }).end());
    return decodeOtlp(serializeSpans(spans, 'protobuf'), 'protobuf', limits).spans[0] as AgentSpan;
  }
  const judge = (s: AgentSpan): string[] => codes(verifier.verifySpan(s) as Verdict);

  test('within the limits the chain verifies', async () => {
    assert.deepEqual(judge(await decoded(good)), []);
  });

  test('chain.too_deep: more links than ingest keeps', async () => {
    assert.deepEqual(judge(await decoded([...good, ...good])), ['chain.too_deep@4']);
  });

  test('token.too_large: a link longer than ingest keeps', async () => {
    assert.deepEqual(judge(await decoded([good[0] as string, 'x'.repeat(2049)])), ['token.too_large@1']);
  });

  test('a fault past the policy maxDepth is chain.too_deep at maxDepth, as for a kept chain', async () => {
    const shallow = new ChainVerifier(await d.trust(), { ...defaultPolicy(), maxDepth: 2 });
    const at = (s: AgentSpan): string[] => codes(shallow.verifySpan(s) as Verdict);
    const long = [...good, good[0] as string, 'x'.repeat(2049)]; // link 4 too long
    assert.deepEqual(at(await decoded(long, resolveIngestLimits({ maxChainLinks: 8, maxChainLinkLength: 2048 }))), ['chain.too_deep@2']);
    assert.deepEqual(at(await decoded([...good, ...good])), ['chain.too_deep@2']);
    // The same chain kept by ingest: the verifier's own check gives the same reason.
    assert.deepEqual(at(await decoded([...good, ...good], resolveIngestLimits({}))), ['chain.too_deep@2']);
    assert.deepEqual(at(await decoded([good[0] as string, 'x'.repeat(2049)])), ['token.too_large@1']);
  });

  test('chain.missing: an empty array; chain.malformed: not a string array', async () => {
    assert.deepEqual(judge(await decoded([])), ['chain.missing']);
    assert.deepEqual(judge(await decoded(good[0])), ['chain.malformed']);
  });
});

describe('schemas/span-attributes.schema.json says what verification does', () => {
  test('an attribute set is schema-valid exactly when its operation and scopes pass verification', async () => {
    const { Ajv2020 } = await import('ajv/dist/2020.js');
    const { readFileSync } = await import('node:fs');
    const schema = JSON.parse(readFileSync(new URL('../../schemas/span-attributes.schema.json', import.meta.url), 'utf8')) as object;
    const validate = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true }).compile(schema);
    const operations = [...WELL_KNOWN_OPERATIONS, 'plan', 'Execute_Tool', 'execute_tool ', '\u0435x\u0435cute_tool', 'execute-tool', ''];
    for (const operation of operations) {
      for (const scopesUsed of [[], ['cloud:read'], [''], ['cloud:read', '']]) {
        const attrs = agentSpanAttributes({ chain: good, taskId: TASK, agentId: d.id('scanner'), agentName: 'scanner', operation, scopesUsed });
        if (operation === '') delete attrs['gen_ai.operation.name'];
        if (scopesUsed.length === 0) delete attrs['chainsight.scope.used'];
        const verdict = verify({ operation, scopesUsed });
        assert.equal(validate(attrs), verdict.status === 'verified', `${JSON.stringify(operation)} ${JSON.stringify(scopesUsed)}: ${JSON.stringify(validate.errors)} vs ${codes(verdict).join()}`);
      }
    }
  });
});
