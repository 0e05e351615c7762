import type { IHeaders, KafkaMessage } from 'kafkajs';
import type { AgentSpan, AuthenticatedPeer } from '../model/span.js';
import type { Refusal } from '../pipeline/types.js';
import { kafkaReceivedAtMs, stampReceived } from '../verify/received-time.js';
import { bearerToken, type PeerResult } from './peer-identity.js';

/** The two OTLP encodings the OTel Collector's kafka exporter writes (otlp_proto, otlp_json). */
export type OtlpFormat = 'protobuf' | 'json';

export type SpanDecoder = (
  value: Uint8Array,
  format: OtlpFormat,
) => { spans: AgentSpan[]; rejected: number; errors: string[] };

/** Headers chainsight adds to a dead-lettered message, beside the original ones. */
export const DLQ_HEADER = {
  error: 'x-chainsight-error',
  sourceTopic: 'x-chainsight-source-topic',
  sourcePartition: 'x-chainsight-source-partition',
  sourceOffset: 'x-chainsight-source-offset',
  /** On refused rows only: the store's error name and the table that refused the row. */
  errorCode: 'x-chainsight-error-code',
  table: 'x-chainsight-table',
  /** 'true' when the refused row's JSON was cut to MAX_REFUSED_ROW_BYTES. */
  truncated: 'x-chainsight-truncated',
} as const;

/**
 * A refused row's JSON may be larger than the broker takes (1 MiB by
 * default): a DLQ write that can never succeed would stall the partition
 * exactly as the refused row did. Beyond this the row is cut.
 */
export const MAX_REFUSED_ROW_BYTES = 512 * 1024;

/** Error text is attacker-influenced and unbounded; keep DLQ headers small. */
const MAX_ERROR_HEADER_CHARS = 1000;

/** A header's first value as text; Kafka header names are compared case-insensitively here. */
export function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, raw] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || raw === undefined) continue;
    const first = Array.isArray(raw) ? raw[0] : raw;
    if (first === undefined) return undefined;
    return typeof first === 'string' ? first : first.toString('utf8');
  }
  return undefined;
}

/**
 * The encoding of one message: the content-type header when it names one we
 * know, else a sniff (OTLP JSON is an object, so its first non-blank byte is
 * `{`; protobuf ExportTraceServiceRequest starts with field tag 0x0a).
 */
export function detectFormat(headers: IHeaders | undefined, value: Uint8Array): OtlpFormat {
  const contentType = headerText(headers, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  if (contentType === 'application/json') return 'json';
  if (contentType === 'application/x-protobuf' || contentType === 'application/protobuf') return 'protobuf';
  for (const byte of value) {
    // space, tab, LF, CR: JSON whitespace
    if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d) continue;
    return byte === 0x7b ? 'json' : 'protobuf';
  }
  return 'protobuf';
}

/** A message that could not be decoded, kept whole for the dead-letter topic. */
export interface PoisonMessage {
  offset: string;
  message: KafkaMessage;
  error: string;
}

/** What one fetched batch amounts to once every message is decoded. */
export interface DecodedBatch {
  spans: AgentSpan[];
  /** The offset of the message each span came from, index for index. */
  offsets: string[];
  /** Spans the decoder refused inside otherwise valid messages. */
  rejected: number;
  errors: string[];
  poison: PoisonMessage[];
}

/** Decodes every message of a batch; a throwing decode marks that message poison, never the batch. */
export function decodeBatch(messages: KafkaMessage[], decode: SpanDecoder, nowMs = Date.now()): DecodedBatch {
  const out: DecodedBatch = { spans: [], offsets: [], rejected: 0, errors: [], poison: [] };
  for (const message of messages) {
    if (message.value === null) {
      out.poison.push({ offset: message.offset, message, error: 'message has no value' });
      continue;
    }
    try {
      const result = decode(message.value, detectFormat(message.headers, message.value));
      // Received: the message timestamp (the Collector's producer set it), never later than this clock.
      stampReceived(result.spans, kafkaReceivedAtMs(message.timestamp, nowMs));
      for (const span of result.spans) {
        out.spans.push(span);
        out.offsets.push(message.offset);
      }
      out.rejected += result.rejected;
      for (const error of result.errors) out.errors.push(error);
    } catch (err) {
      out.poison.push({ offset: message.offset, message, error: errorText(err) });
    }
  }
  return out;
}

/** The DLQ copy of a poison message: original key, value and headers, plus where it came from and why. */
export function deadLetterOf(
  poison: PoisonMessage,
  source: { topic: string; partition: number },
): { key: Buffer | null; value: Buffer | null; headers: IHeaders; timestamp?: string } {
  const headers: IHeaders = { ...(poison.message.headers ?? {}) };
  headers[DLQ_HEADER.error] = poison.error.slice(0, MAX_ERROR_HEADER_CHARS);
  headers[DLQ_HEADER.sourceTopic] = source.topic;
  headers[DLQ_HEADER.sourcePartition] = String(source.partition);
  headers[DLQ_HEADER.sourceOffset] = poison.offset;
  return {
    key: poison.message.key,
    value: poison.message.value,
    headers,
    timestamp: poison.message.timestamp,
  };
}

/**
 * The DLQ copy of a row the store refused for good: the row as JSON (the
 * rest of its message was stored), keyed by its trace id, with the error and
 * where its message came from.
 */
export function deadLetterOfRefusal(
  refusal: Refusal,
  source: { topic: string; partition: number; offset: string },
): { key: string | null; value: string; headers: IHeaders } {
  const row = (typeof refusal.row === 'object' && refusal.row !== null ? refusal.row : {}) as Record<string, unknown>;
  let value = JSON.stringify(refusal.row) ?? 'null';
  const truncated = Buffer.byteLength(value) > MAX_REFUSED_ROW_BYTES;
  if (truncated) value = Buffer.from(value).subarray(0, MAX_REFUSED_ROW_BYTES).toString();
  return {
    key: typeof row.trace_id === 'string' && row.trace_id !== '' ? row.trace_id.slice(0, 64) : null,
    value,
    headers: {
      ...(truncated ? { [DLQ_HEADER.truncated]: 'true' } : {}),
      'content-type': 'application/json',
      [DLQ_HEADER.error]: refusal.error.message.slice(0, MAX_ERROR_HEADER_CHARS),
      [DLQ_HEADER.errorCode]: refusal.error.code,
      [DLQ_HEADER.table]: refusal.kind,
      [DLQ_HEADER.sourceTopic]: source.topic,
      [DLQ_HEADER.sourcePartition]: String(source.partition),
      [DLQ_HEADER.sourceOffset]: source.offset,
    },
  };
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/** Proves a bearer token's sender as of `receivedAtMs` (see src/ingest/peer-identity.ts). */
export type BearerCheck = (token: string, receivedAtMs: number) => Promise<PeerResult>;

/**
 * The Kafka path's emitter proof: a Collector configured to copy the OTLP
 * request's `authorization` header into the record (collectors/README.md)
 * carries the sender's JWT-SVID, verified here as the receiver verifies it,
 * at the message's received time (a lagging consumer must not expire a token
 * that was valid when the Collector took the request). A message without the
 * header leaves its spans unauthenticated; one whose token fails marks them
 * with `peerError`. Each distinct token is verified once per batch.
 */
export async function authenticateBatch(messages: readonly KafkaMessage[], decoded: DecodedBatch, check: BearerCheck, nowMs = Date.now()): Promise<void> {
  const byOffset = new Map<string, { peer?: AuthenticatedPeer; error?: string }>();
  const verified = new Map<string, Promise<PeerResult>>();
  for (const m of messages) {
    const header = headerText(m.headers, 'authorization');
    if (header === undefined) continue;
    const token = bearerToken(header);
    if (token === null || token === undefined) {
      byOffset.set(m.offset, { error: 'the authorization header is not "Bearer <JWT-SVID>"' });
      continue;
    }
    const receivedAtMs = kafkaReceivedAtMs(m.timestamp, nowMs);
    const key = `${receivedAtMs} ${token}`;
    let p = verified.get(key);
    // A check that throws is that record's failure, never the batch's.
    if (p === undefined) verified.set(key, (p = check(token, receivedAtMs).catch((e: unknown): PeerResult => ({ ok: false, error: `cannot verify the token: ${errorText(e)}` }))));
    const r = await p;
    byOffset.set(m.offset, r.ok ? { peer: r.peer } : { error: r.error });
  }
  if (byOffset.size === 0) return;
  decoded.spans.forEach((span, i) => {
    const outcome = byOffset.get(decoded.offsets[i]!);
    if (outcome?.peer) span.peer = outcome.peer;
    else if (outcome?.error !== undefined) span.peerError = outcome.error;
  });
}
