import type { Reason } from './verdict.js';

/**
 * An agent's span after decoding, with chainsight's attributes lifted out.
 * Both OTLP encodings (protobuf and JSON) decode into this one shape, so the
 * rest of the pipeline never sees wire formats.
 */
/** A sender's SPIFFE ID and how it was proven. */
export interface AuthenticatedPeer {
  id: string;
  method: 'mtls' | 'jwt-svid';
}

export interface AgentSpan {
  traceId: string; // 32 lowercase hex chars
  spanId: string; // 16 lowercase hex chars
  parentSpanId: string; // '' for a root span
  name: string;
  kind: number; // OTLP SpanKind enum value
  /** Unix nanoseconds as a decimal string: exact, and what ClickHouse DateTime64(9) takes. */
  startNs: string;
  endNs: string;
  /** Milliseconds since the epoch (rounded), for time checks. */
  startMs: number;
  endMs: number;
  /**
   * When chainsight received the span, in ms since the epoch, by a clock the
   * sender does not control: the receiver's on OTLP/HTTP, the Kafka message
   * timestamp (capped at the consumer's clock) on the Kafka path. The span's
   * own start is bounded by it. 0 or absent: made in-process, never received.
   */
  receivedAtMs?: number;
  /**
   * Who sent the span, as proven by the request that carried it (an mTLS
   * X.509-SVID or a JWT-SVID bearer token), set by the receiver only. Absent:
   * the sender proved nothing (or the span came through Kafka, which does not
   * carry it). Never read from the span's own attributes.
   */
  peer?: AuthenticatedPeer;
  /** Set instead of `peer` when the delivery carried a credential that does not verify (Kafka path): fails closed. */
  peerError?: string;
  statusCode: number; // 0 unset, 1 ok, 2 error
  serviceName: string;

  /** chainsight.task.id (span attribute, else baggage copied by the SDK). */
  taskId: string;
  /** chainsight.delegation.chain: compact JWS links, root first. null when absent. */
  chain: string[] | null;
  /**
   * Set (with chain = null) when the chain attribute is present but cannot be
   * kept: not a string array, empty, or past the ingest limits. It carries the
   * reason verification reports, so the code is the same whichever limit,
   * ingest's or the policy's, a chain breaks.
   */
  chainError?: ChainFault;
  /** gen_ai.agent.id (span attribute, else resource attribute): the acting agent's SPIFFE ID. */
  agentId: string;
  agentName: string;
  operation: string; // gen_ai.operation.name
  toolName: string; // gen_ai.tool.name
  /** chainsight.scope.used: the permissions this action exercised. */
  scopesUsed: string[];
  /** chainsight.resource: what the action touched (ARN, URL, table, ...). */
  resource: string;
  /** Remaining span attributes, stringified, for analysts. */
  attributes: Record<string, string>;
  /**
   * Problems decoding found and repaired so the span can be stored (see
   * src/ingest/otlp/mapping.ts); each fails the span's verdict. Absent on
   * well-formed spans, which keep one object shape.
   */
  ingestIssues?: Reason[];
}

/** Why a span's chain attribute was not kept. */
export interface ChainFault {
  code: 'chain.missing' | 'chain.malformed' | 'chain.too_deep' | 'token.too_large';
  /** The offending link (root = 0), when one is to blame. */
  link?: number;
  message: string;
}

/** Attribute keys chainsight reads. Documented in schemas/span-attributes.md. */
export const ATTR = {
  taskId: 'chainsight.task.id',
  chain: 'chainsight.delegation.chain',
  scopeUsed: 'chainsight.scope.used',
  resource: 'chainsight.resource',
  delegationTarget: 'chainsight.delegation.target',
  operation: 'gen_ai.operation.name',
  agentId: 'gen_ai.agent.id',
  agentName: 'gen_ai.agent.name',
  toolName: 'gen_ai.tool.name',
  serviceName: 'service.name',
} as const;

/** W3C baggage key that carries the task ID across agent boundaries. */
export const BAGGAGE_TASK_ID = 'chainsight.task.id';
