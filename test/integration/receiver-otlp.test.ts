import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { SpanKind, context, trace } from '@opentelemetry/api';
import express from 'express';
import { type IngestLimits, resolveIngestLimits } from '../../src/ingest/limits.js';
import { ExportTraceServiceResponse, RpcStatus } from '../../src/ingest/otlp/schema.js';
import { type ReceiverMetrics, createOtlpRouter } from '../../src/ingest/receiver.js';
import type { AgentSpan } from '../../src/model/span.js';
import type { IngestResult, SpanSink } from '../../src/pipeline/types.js';
import { StoreError } from '../../src/store/errors.js';
import { agentSpanAttributes, spanName, withTask } from '../../src/sdk/telemetry.js';
import { type Encoding, encodeProtobufRequest, fakeLink, startTestAgent } from '../support/otel.js';

/** Test double of the pipeline: records what it was given; can be switched to fail like a store outage. */
class RecordingSink implements SpanSink {
  spans: AgentSpan[] = [];
  calls = 0;
  failing = false;
  /** Fail this many more calls, then recover. */
  failNext = 0;
  /** Throw an error marked permanent (data the pipeline can never take). */
  failPermanently = false;
  async ingest(spans: AgentSpan[]): Promise<IngestResult> {
    this.calls++;
    if (this.failing) throw new Error('store down');
    if (this.failPermanently) throw new StoreError('value out of range', true, 'DECIMAL_OVERFLOW');
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('store down for a moment');
    }
    this.spans.push(...spans);
    return { accepted: spans.length, rejected: 0, errors: [] };
  }
}

class CountingMetrics implements ReceiverMetrics {
  requests: Array<[number, string]> = [];
  received = 0;
  rejected = 0;
  decodeErrors = 0;
  request(status: number, encoding: string) {
    this.requests.push([status, encoding]);
  }
  spans(received: number, rejected: number) {
    this.received += received;
    this.rejected += rejected;
  }
  decodeError() {
    this.decodeErrors++;
  }
}

const sink = new RecordingSink();
const metrics = new CountingMetrics();
const limits: IngestLimits = resolveIngestLimits({ maxBodyBytes: 256 * 1024, maxDecompressedBytes: 512 * 1024 });
let server: Server;
let url: string;

before(async () => {
  const app = express();
  app.use(createOtlpRouter({ sink, limits, metrics, retryAfterSeconds: 2 }));
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  sink.spans = [];
  sink.calls = 0;
  sink.failing = false;
  sink.failNext = 0;
  sink.failPermanently = false;
});

const chain = [fakeLink('r'), fakeLink('m')];
const PLANNER = 'spiffe://example.org/agent/planner';
const WORKER = 'spiffe://example.org/agent/worker';

describe('agents on the real OTel SDK export to the receiver', () => {
  for (const encoding of ['protobuf', 'json'] as Encoding[]) {
    for (const compression of ['none', 'gzip'] as const) {
      it(`${encoding}, compression ${compression}`, async () => {
        const planner = startTestAgent({ serviceName: 'planner-svc', agentId: PLANNER, url, encoding, compression });
        const worker = startTestAgent({ serviceName: 'worker-svc', agentId: WORKER, url, encoding, compression });
        const taskId = `task-${encoding}-${compression}`;
        withTask(taskId, () => {
          const invoke = planner.tracer.startSpan(spanName.invokeAgent('worker'), {
            kind: SpanKind.CLIENT,
            attributes: agentSpanAttributes({
              chain,
              taskId,
              agentId: PLANNER,
              agentName: 'planner',
              operation: 'invoke_agent',
              delegationTarget: WORKER,
            }),
          });
          // The worker runs in the planner's context: same trace, task id via baggage only.
          context.with(trace.setSpan(context.active(), invoke), () => {
            const tool = worker.tracer.startSpan(spanName.executeTool('s3.get'), {
              attributes: {
                'chainsight.delegation.chain': chain,
                'gen_ai.operation.name': 'execute_tool',
                'gen_ai.agent.name': 'worker',
                'gen_ai.tool.name': 's3.get',
                'chainsight.scope.used': ['s3:read'],
                'chainsight.resource': 'arn:aws:s3:::reports/q3.csv',
              },
            });
            tool.end();
          });
          invoke.end();
        });
        await Promise.all([planner.forceFlush(), worker.forceFlush()]);
        await Promise.all([planner.shutdown(), worker.shutdown()]);

        const inv = sink.spans.find((s) => s.taskId === taskId && s.operation === 'invoke_agent');
        const tool = sink.spans.find((s) => s.taskId === taskId && s.operation === 'execute_tool');
        assert.ok(inv && tool, `both spans arrived (got ${sink.spans.length})`);
        assert.equal(inv.serviceName, 'planner-svc');
        assert.equal(inv.agentId, PLANNER);
        assert.equal(inv.name, 'invoke_agent worker');
        assert.equal(inv.kind, 3);
        assert.deepEqual(inv.chain, chain);
        assert.equal(inv.attributes['chainsight.delegation.target'], WORKER);
        assert.equal(tool.serviceName, 'worker-svc');
        assert.equal(tool.agentId, WORKER, 'from the worker resource');
        assert.equal(tool.parentSpanId, inv.spanId);
        assert.equal(tool.traceId, inv.traceId);
        assert.equal(tool.taskId, taskId, 'copied from baggage');
        assert.equal(tool.name, 'execute_tool s3.get');
        assert.equal(tool.toolName, 's3.get');
        assert.deepEqual(tool.scopesUsed, ['s3:read']);
        assert.equal(tool.resource, 'arn:aws:s3:::reports/q3.csv');
        assert.match(tool.startNs, /^\d{19}$/);
        assert.ok(tool.endMs >= tool.startMs);
      });
    }
  }
});

describe('store outage seen by a real exporter', () => {
  it('the exporter retries after 503 and the spans arrive once the store is back', async () => {
    sink.failNext = 1;
    const agent = startTestAgent({ serviceName: 'retry-svc', agentId: PLANNER, url, encoding: 'protobuf' });
    withTask('task-retry', () => agent.tracer.startSpan('execute_tool t').end());
    await agent.forceFlush();
    await agent.shutdown();
    assert.equal(sink.calls, 2, 'one refused delivery, one retried');
    assert.deepEqual(
      sink.spans.map((s) => [s.taskId, s.serviceName]),
      [['task-retry', 'retry-svc']],
    );
  });
});

const TRACE = Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex');
function protoBody(spans: Array<Record<string, unknown>>) {
  return Buffer.from(encodeProtobufRequest({ resourceSpans: [{ scopeSpans: [{ spans }] }] }));
}
function span(id: string, extra: Record<string, unknown> = {}) {
  return { traceId: TRACE, spanId: Buffer.from(id, 'hex'), name: 'n', ...extra };
}
function jsonBody(spans: unknown[]) {
  return Buffer.from(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] }));
}
async function post(body: Uint8Array, headers: Record<string, string>) {
  const res = await fetch(url, { method: 'POST', body: body as Uint8Array<ArrayBuffer>, headers });
  return { res, body: Buffer.from(await res.arrayBuffer()) };
}
const PB = { 'content-type': 'application/x-protobuf' };
const JS = { 'content-type': 'application/json; charset=utf-8' };

describe('receiver responses', () => {
  it('200 with an empty ExportTraceServiceResponse on full success (protobuf)', async () => {
    const { res, body } = await post(protoBody([span('b7ad6b7169203331')]), PB);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/x-protobuf');
    assert.equal(body.length, 0);
    assert.equal(sink.spans.length, 1);
  });

  it('partial success for spans without ids, protobuf', async () => {
    const before = metrics.rejected;
    const { res, body } = await post(protoBody([span('b7ad6b7169203331'), span('', { traceId: Buffer.alloc(0) })]), PB);
    assert.equal(res.status, 200);
    const msg = ExportTraceServiceResponse.toObject(ExportTraceServiceResponse.decode(body), { longs: Number }) as {
      partialSuccess?: { rejectedSpans: number; errorMessage: string };
    };
    assert.equal(msg.partialSuccess?.rejectedSpans, 1);
    assert.match(msg.partialSuccess?.errorMessage ?? '', /trace id is missing/);
    assert.equal(sink.spans.length, 1);
    assert.equal(metrics.rejected - before, 1);
  });

  it('partial success for spans without ids, JSON', async () => {
    const { res, body } = await post(jsonBody([{ traceId: TRACE.toString('hex'), spanId: '' }]), JS);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    const msg = JSON.parse(body.toString());
    assert.equal(msg.partialSuccess.rejectedSpans, '1');
    assert.match(msg.partialSuccess.errorMessage, /span id is missing/);
    assert.equal(sink.calls, 0, 'nothing to store');
  });

  it('gzip-compressed JSON is accepted', async () => {
    const { res } = await post(gzipSync(jsonBody([{ traceId: TRACE.toString('hex'), spanId: 'b7ad6b7169203331' }])), {
      ...JS,
      'content-encoding': 'gzip',
    });
    assert.equal(res.status, 200);
    assert.equal(sink.spans.length, 1);
  });

  it('415 for another content type, as a JSON google.rpc.Status', async () => {
    const { res, body } = await post(Buffer.from('x'), { 'content-type': 'text/plain' });
    assert.equal(res.status, 415);
    const status = JSON.parse(body.toString());
    assert.equal(status.code, 3);
    assert.match(status.message, /unsupported Content-Type/);
  });

  it('415 for an unsupported content encoding', async () => {
    const { res } = await post(Buffer.from('x'), { ...PB, 'content-encoding': 'br' });
    assert.equal(res.status, 415);
  });

  it('400 with a protobuf google.rpc.Status for an undecodable protobuf body', async () => {
    const before = metrics.decodeErrors;
    const { res, body } = await post(Buffer.from([0x0a, 0x50, 0x01]), PB);
    assert.equal(res.status, 400);
    const status = RpcStatus.toObject(RpcStatus.decode(body)) as { code: number; message: string };
    assert.equal(status.code, 3);
    assert.match(status.message, /truncated/);
    assert.equal(metrics.decodeErrors - before, 1);
  });

  it('400 for invalid JSON and for a corrupt gzip stream', async () => {
    assert.equal((await post(Buffer.from('{nope'), JS)).res.status, 400);
    const corrupt = await post(Buffer.from('not gzip'), { ...PB, 'content-encoding': 'gzip' });
    assert.equal(corrupt.res.status, 400);
    assert.match(RpcStatus.toObject(RpcStatus.decode(corrupt.body)).message as string, /not valid gzip/);
  });

  it('413 for a body over the wire limit', async () => {
    const { res, body } = await post(Buffer.alloc(limits.maxBodyBytes + 1, 0x20), JS);
    assert.equal(res.status, 413);
    assert.match(JSON.parse(body.toString()).message, /body exceeds the limit of 262144 bytes/);
  });

  it('413 for a gzip bomb (decompressed size over the limit)', async () => {
    const bomb = gzipSync(Buffer.alloc(limits.maxDecompressedBytes * 4, 0x20));
    assert.ok(bomb.length < limits.maxBodyBytes);
    const { res, body } = await post(bomb, { ...JS, 'content-encoding': 'gzip' });
    assert.equal(res.status, 413);
    assert.match(JSON.parse(body.toString()).message, /decompressed body exceeds/);
  });

  it('413 when a request carries too many spans', async () => {
    const app = express();
    app.use(createOtlpRouter({ sink, limits: resolveIngestLimits({ maxSpansPerRequest: 1 }) }));
    const s = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => s.once('listening', () => resolve()));
    try {
      const res = await fetch(`http://127.0.0.1:${(s.address() as AddressInfo).port}/v1/traces`, {
        method: 'POST',
        headers: PB,
        body: protoBody([span('b7ad6b7169203331'), span('b7ad6b7169203332')]) as Uint8Array<ArrayBuffer>,
      });
      assert.equal(res.status, 413);
      assert.equal(sink.calls, 0);
    } finally {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  });

  it('503 with Retry-After when the sink fails, and nothing is acknowledged', async () => {
    sink.failing = true;
    const { res, body } = await post(protoBody([span('b7ad6b7169203331')]), PB);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '2');
    assert.equal((RpcStatus.toObject(RpcStatus.decode(body)) as { code: number }).code, 14);
    assert.equal(sink.spans.length, 0);
  });

  it('400, not 503, when the sink fails with an error marked permanent: retrying cannot help', async () => {
    sink.failPermanently = true;
    const { res, body } = await post(protoBody([span('b7ad6b7169203331')]), PB);
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('retry-after'), null);
    const status = RpcStatus.toObject(RpcStatus.decode(body)) as { code: number; message: string };
    assert.equal(status.code, 3);
    assert.match(status.message, /value out of range/);
  });

  it('stays up after all of the above', async () => {
    const { res } = await post(protoBody([span('b7ad6b7169203331')]), PB);
    assert.equal(res.status, 200);
    assert.ok(metrics.requests.some(([s, e]) => s === 415 && e === 'unknown'));
    assert.ok(metrics.requests.some(([s, e]) => s === 200 && e === 'protobuf'));
  });
});
