/**
 * Test helpers around the real OpenTelemetry SDK: agents exporting over
 * OTLP/HTTP (both encodings), spans recorded in memory, and request bodies
 * serialized exactly as the OTLP exporters serialize them.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Attributes, Tracer } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ExportTraceServiceRequest } from '../../src/ingest/otlp/schema.js';
import {
  type AgentTelemetry,
  type AgentTelemetryOptions,
  TaskBaggageSpanProcessor,
  installContextPropagation,
  startAgentTelemetry,
} from '../../src/sdk/telemetry.js';

export type Encoding = 'protobuf' | 'json';

/** An agent exporting to url, with a short batch delay so tests do not wait. */
export function startTestAgent(
  opts: Omit<AgentTelemetryOptions, 'batch'> & { batch?: AgentTelemetryOptions['batch'] },
): AgentTelemetry {
  return startAgentTelemetry({ batch: { scheduledDelayMillis: 20, ...opts.batch }, ...opts });
}

/**
 * Runs fn with a tracer whose ended spans are kept in memory, and returns
 * them (ReadableSpans as an exporter would receive them).
 */
export async function recordSpans(
  resourceAttributes: Attributes,
  fn: (tracer: Tracer) => void | Promise<void>,
): Promise<ReadableSpan[]> {
  installContextPropagation();
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes(resourceAttributes)),
    spanProcessors: [new TaskBaggageSpanProcessor(), new SimpleSpanProcessor(exporter)],
  });
  await fn(provider.getTracer('chainsight-test'));
  await provider.forceFlush();
  const spans = exporter.getFinishedSpans();
  await provider.shutdown();
  return spans;
}

/** The body the OTLP/HTTP exporters would send for these spans. */
export function serializeSpans(spans: ReadableSpan[], encoding: Encoding): Uint8Array {
  const body =
    encoding === 'protobuf'
      ? ProtobufTraceSerializer.serializeRequest(spans)
      : JsonTraceSerializer.serializeRequest(spans);
  if (body === undefined) throw new Error('serializer returned nothing');
  return body;
}

/**
 * Encodes a request written as a plain object (protobufjs fromObject shape:
 * camelCase fields, ids as Uint8Array/Buffer, times as numbers or strings),
 * for shapes the SDK cannot produce (missing ids, odd attribute types).
 */
export function encodeProtobufRequest(request: Record<string, unknown>): Uint8Array {
  return ExportTraceServiceRequest.encode(ExportTraceServiceRequest.fromObject(request)).finish();
}

/**
 * A string shaped like a compact JWS delegation link (header.payload.signature),
 * about as long as an Ed25519-signed link. Not verifiable; the ingest layer
 * never verifies.
 */
export function fakeLink(seed: string): string {
  const b64 = (b: Buffer) => b.toString('base64url');
  const header = b64(Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: `k-${seed}`, typ: 'chainsight-link+jwt' })));
  const payload = b64(
    Buffer.from(
      JSON.stringify({
        iss: `spiffe://example.org/agent/${seed}-from`,
        sub: `spiffe://example.org/agent/${seed}-to`,
        scope: ['s3:read', 'ec2:describe'],
        task: `task-${seed}`,
        jti: createHash('sha256').update(seed).digest('hex').slice(0, 16),
        iat: 1_700_000_000,
        nbf: 1_700_000_000,
        exp: 1_700_003_600,
      }),
    ),
  );
  return `${header}.${payload}.${b64(randomBytes(64))}`;
}
