/**
 * decodeOtlp: one OTLP trace export body (either encoding) → AgentSpan[].
 * Transport-free: the HTTP receiver and the Kafka consumer (otlp_proto /
 * otlp_json messages) both call it.
 */
import type { IngestLimits } from '../limits.js';
import { decodeJsonRequest } from './decode-json.js';
import { decodeProtobufRequest } from './decode-protobuf.js';
import { type DecodeResult, DecodeState } from './result.js';

export type OtlpFormat = 'protobuf' | 'json';

/**
 * Spans without a valid trace or span id are rejected (counted, with a
 * reason); every other span is kept, whatever chainsight attributes it lacks.
 * @throws OtlpDecodeError when the body is not an ExportTraceServiceRequest
 * @throws LimitError when it carries more than limits.maxSpansPerRequest spans
 */
export function decodeOtlp(body: Uint8Array, format: OtlpFormat, limits: IngestLimits): DecodeResult {
  const state = new DecodeState(limits);
  if (format === 'protobuf') decodeProtobufRequest(body, state);
  else decodeJsonRequest(body, state);
  return state.result();
}
