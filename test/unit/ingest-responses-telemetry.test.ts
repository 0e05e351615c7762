import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { context, propagation } from '@opentelemetry/api';
import { encodeExportResponse, encodeRpcStatus } from '../../src/ingest/otlp/responses.js';
import { ExportTraceServiceResponse, RpcStatus } from '../../src/ingest/otlp/schema.js';
import { formatOf } from '../../src/ingest/receiver.js';
import {
  agentSpanAttributes,
  currentTaskId,
  installContextPropagation,
  propagationHeaders,
  spanName,
  withIncomingHeaders,
  withTask,
} from '../../src/sdk/telemetry.js';
import { recordSpans } from '../support/otel.js';

describe('OTLP responses', () => {
  it('full success: empty protobuf message, {} in JSON', () => {
    assert.equal(encodeExportResponse('protobuf').length, 0);
    assert.equal(encodeExportResponse('json').toString(), '{}');
    assert.equal(encodeExportResponse('protobuf', { rejectedSpans: 0, errorMessage: '' }).length, 0);
  });
  it('partial success round-trips through the OTLP schema', () => {
    const pb = encodeExportResponse('protobuf', { rejectedSpans: 3, errorMessage: 'no ids' });
    assert.deepEqual(ExportTraceServiceResponse.toObject(ExportTraceServiceResponse.decode(pb), { longs: Number }), {
      partialSuccess: { rejectedSpans: 3, errorMessage: 'no ids' },
    });
    assert.deepEqual(JSON.parse(encodeExportResponse('json', { rejectedSpans: 3, errorMessage: 'no ids' }).toString()), {
      partialSuccess: { rejectedSpans: '3', errorMessage: 'no ids' },
    });
  });
  it('google.rpc.Status in both encodings', () => {
    assert.deepEqual(RpcStatus.toObject(RpcStatus.decode(encodeRpcStatus('protobuf', 3, 'bad'))), { code: 3, message: 'bad' });
    assert.deepEqual(JSON.parse(encodeRpcStatus('json', 14, 'later').toString()), { code: 14, message: 'later' });
  });
  it('content types: charset allowed, others refused', () => {
    assert.equal(formatOf('application/x-protobuf'), 'protobuf');
    assert.equal(formatOf('Application/JSON; charset=utf-8'), 'json');
    assert.equal(formatOf('application/protobuf'), null);
    assert.equal(formatOf('text/plain'), null);
    assert.equal(formatOf(undefined), null);
  });
});

describe('agent telemetry helpers', () => {
  it('agentSpanAttributes builds the documented attribute set, optional ones only when given', () => {
    const base = { chain: ['l1', 'l2'], taskId: 't', agentId: 'spiffe://d/a', agentName: 'a', operation: 'invoke_agent' };
    assert.deepEqual(agentSpanAttributes(base), {
      'chainsight.task.id': 't',
      'chainsight.delegation.chain': ['l1', 'l2'],
      'gen_ai.agent.id': 'spiffe://d/a',
      'gen_ai.agent.name': 'a',
      'gen_ai.operation.name': 'invoke_agent',
    });
    assert.deepEqual(
      agentSpanAttributes({ ...base, toolName: 'x', scopesUsed: ['s'], resource: 'r', delegationTarget: 'spiffe://d/b' }),
      {
        ...agentSpanAttributes(base),
        'gen_ai.tool.name': 'x',
        'chainsight.scope.used': ['s'],
        'chainsight.resource': 'r',
        'chainsight.delegation.target': 'spiffe://d/b',
      },
    );
    assert.equal(spanName.invokeAgent('worker'), 'invoke_agent worker');
    assert.equal(spanName.executeTool('s3.get'), 'execute_tool s3.get');
  });

  it('withTask puts the task id in baggage, scoped to fn', () => {
    installContextPropagation();
    assert.equal(currentTaskId(), undefined);
    const inside = withTask('task-1', () => currentTaskId());
    assert.equal(inside, 'task-1');
    assert.equal(currentTaskId(), undefined);
    const nested = withTask('outer', () => withTask('inner', () => currentTaskId()));
    assert.equal(nested, 'inner');
  });

  it('the baggage travels through W3C headers to another agent', () => {
    installContextPropagation();
    const headers = withTask('task-x', () => propagationHeaders());
    assert.match(headers.baggage ?? '', /chainsight\.task\.id=task-x/);
    assert.equal(withIncomingHeaders(headers, () => currentTaskId()), 'task-x');
    assert.equal(withIncomingHeaders({}, () => currentTaskId()), undefined);
  });

  it('the span processor copies the baggage task id only onto spans that lack it', async () => {
    const spans = await recordSpans({ 'service.name': 's' }, (tracer) =>
      withTask('from-baggage', () => {
        tracer.startSpan('a').end();
        tracer.startSpan('b', { attributes: { 'chainsight.task.id': 'explicit' } }).end();
      }),
    );
    const outside = await recordSpans({ 'service.name': 's' }, (tracer) => tracer.startSpan('c').end());
    assert.equal(spans[0]?.attributes['chainsight.task.id'], 'from-baggage');
    assert.equal(spans[1]?.attributes['chainsight.task.id'], 'explicit');
    assert.equal(outside[0]?.attributes['chainsight.task.id'], undefined);
    assert.equal(propagation.getBaggage(context.active()), undefined);
  });
});

describe('schemas/span-attributes.schema.json', async () => {
  const { Ajv2020 } = await import('ajv/dist/2020.js');
  const { readFileSync } = await import('node:fs');
  const schema = JSON.parse(readFileSync(new URL('../../schemas/span-attributes.schema.json', import.meta.url), 'utf8'));
  const validate = new Ajv2020({ allErrors: true }).compile(schema);
  const tool = agentSpanAttributes({
    chain: ['aa.bb.cc'],
    taskId: 't',
    agentId: 'spiffe://example.org/agent/w',
    agentName: 'w',
    operation: 'execute_tool',
    toolName: 's3.get',
    scopesUsed: ['s3:read'],
    resource: 'arn:aws:s3:::b/k',
  });
  it('accepts what agentSpanAttributes builds', () => {
    assert.ok(validate(tool), JSON.stringify(validate.errors));
  });
  it('refuses a string chain and an execute_tool span without its scopes', () => {
    assert.equal(validate({ ...tool, 'chainsight.delegation.chain': 'aa.bb.cc' }), false);
    const { 'chainsight.scope.used': _s, ...noScope } = tool;
    assert.equal(validate(noScope), false);
  });
});
