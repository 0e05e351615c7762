/**
 * OTLP/HTTP response bodies, in the request's encoding:
 * ExportTraceServiceResponse (success, optionally with partial_success) and
 * google.rpc.Status (errors).
 */
import type { OtlpFormat } from './decode.js';
import { ExportTraceServiceResponse, RpcStatus } from './schema.js';

/** google.rpc.Code values used in error bodies. */
export const RPC_CODE = {
  invalidArgument: 3,
  resourceExhausted: 8,
  internal: 13,
  unavailable: 14,
  unauthenticated: 16,
} as const;

export function contentTypeOf(format: OtlpFormat): string {
  return format === 'protobuf' ? 'application/x-protobuf' : 'application/json';
}

/** Full success is the empty message; a partial success names the rejected spans and why. */
export function encodeExportResponse(
  format: OtlpFormat,
  partial?: { rejectedSpans: number; errorMessage: string },
): Buffer {
  const hasPartial = partial !== undefined && (partial.rejectedSpans > 0 || partial.errorMessage !== '');
  if (format === 'json') {
    return Buffer.from(
      JSON.stringify(
        hasPartial
          ? { partialSuccess: { rejectedSpans: String(partial.rejectedSpans), errorMessage: partial.errorMessage } }
          : {},
      ),
    );
  }
  if (!hasPartial) return Buffer.alloc(0);
  const message = ExportTraceServiceResponse.fromObject({
    partialSuccess: { rejectedSpans: partial.rejectedSpans, errorMessage: partial.errorMessage },
  });
  return Buffer.from(ExportTraceServiceResponse.encode(message).finish());
}

export function encodeRpcStatus(format: OtlpFormat, code: number, message: string): Buffer {
  if (format === 'json') return Buffer.from(JSON.stringify({ code, message }));
  return Buffer.from(RpcStatus.encode(RpcStatus.fromObject({ code, message })).finish());
}
