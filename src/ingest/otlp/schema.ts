/**
 * The slice of the OTLP trace protocol chainsight reads, as a protobufjs JSON
 * descriptor. Field numbers and types follow opentelemetry-proto:
 *   collector/trace/v1/trace_service.proto  ExportTraceServiceRequest/Response, ExportTracePartialSuccess
 *   trace/v1/trace.proto                    ResourceSpans, ScopeSpans, Span, Status
 *   resource/v1/resource.proto              Resource
 *   common/v1/common.proto                  KeyValue, AnyValue, ArrayValue, KeyValueList
 * plus google/rpc/status.proto (Status) for OTLP/HTTP error bodies.
 * Fields left out (events, links, flags, trace_state, scope, schema_url, ...)
 * are skipped as unknown fields by any decoder.
 *
 * Why a descriptor in TypeScript rather than a .proto file: tsc emits it into
 * dist with no copy step, nothing is parsed from disk at start-up, and the
 * field numbers sit next to the hand-written wire decoder that must agree with
 * them (decode-protobuf.ts; a unit test checks the two against each other).
 *
 * The message type names are flattened into one namespace; names do not
 * travel on the wire, only field numbers and wire types do.
 */
import protobuf from 'protobufjs';

const repeated = 'repeated' as const;

export const OTLP_TRACE_DESCRIPTOR = {
  nested: {
    otlp: {
      nested: {
        AnyValue: {
          oneofs: {
            value: {
              oneof: [
                'stringValue',
                'boolValue',
                'intValue',
                'doubleValue',
                'arrayValue',
                'kvlistValue',
                'bytesValue',
              ],
            },
          },
          fields: {
            stringValue: { type: 'string', id: 1 },
            boolValue: { type: 'bool', id: 2 },
            intValue: { type: 'int64', id: 3 },
            doubleValue: { type: 'double', id: 4 },
            arrayValue: { type: 'ArrayValue', id: 5 },
            kvlistValue: { type: 'KeyValueList', id: 6 },
            bytesValue: { type: 'bytes', id: 7 },
          },
        },
        ArrayValue: { fields: { values: { rule: repeated, type: 'AnyValue', id: 1 } } },
        KeyValueList: { fields: { values: { rule: repeated, type: 'KeyValue', id: 1 } } },
        KeyValue: {
          fields: {
            key: { type: 'string', id: 1 },
            value: { type: 'AnyValue', id: 2 },
          },
        },
        Resource: { fields: { attributes: { rule: repeated, type: 'KeyValue', id: 1 } } },
        Status: {
          fields: {
            message: { type: 'string', id: 2 },
            code: { type: 'int32', id: 3 }, // enum StatusCode on the wire: a varint
          },
        },
        Span: {
          fields: {
            traceId: { type: 'bytes', id: 1 },
            spanId: { type: 'bytes', id: 2 },
            parentSpanId: { type: 'bytes', id: 4 },
            name: { type: 'string', id: 5 },
            kind: { type: 'int32', id: 6 }, // enum SpanKind on the wire: a varint
            startTimeUnixNano: { type: 'fixed64', id: 7 },
            endTimeUnixNano: { type: 'fixed64', id: 8 },
            attributes: { rule: repeated, type: 'KeyValue', id: 9 },
            status: { type: 'Status', id: 15 },
          },
        },
        ScopeSpans: { fields: { spans: { rule: repeated, type: 'Span', id: 2 } } },
        ResourceSpans: {
          fields: {
            resource: { type: 'Resource', id: 1 },
            scopeSpans: { rule: repeated, type: 'ScopeSpans', id: 2 },
          },
        },
        ExportTraceServiceRequest: {
          fields: { resourceSpans: { rule: repeated, type: 'ResourceSpans', id: 1 } },
        },
        ExportTracePartialSuccess: {
          fields: {
            rejectedSpans: { type: 'int64', id: 1 },
            errorMessage: { type: 'string', id: 2 },
          },
        },
        ExportTraceServiceResponse: {
          fields: { partialSuccess: { type: 'ExportTracePartialSuccess', id: 1 } },
        },
        RpcStatus: {
          // google.rpc.Status; details (3, repeated google.protobuf.Any) is never sent by us.
          fields: {
            code: { type: 'int32', id: 1 },
            message: { type: 'string', id: 2 },
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(OTLP_TRACE_DESCRIPTOR);

export const ExportTraceServiceRequest = root.lookupType('otlp.ExportTraceServiceRequest');
export const ExportTraceServiceResponse = root.lookupType('otlp.ExportTraceServiceResponse');
export const RpcStatus = root.lookupType('otlp.RpcStatus');
