/**
 * Bounds on what one OTLP delivery may cost us. Every source (HTTP receiver,
 * Kafka consumer) applies the same limits so that hostile or broken senders
 * cannot exhaust memory or blow up rows.
 */
export interface IngestLimits {
  /** Largest body as received on the wire (compressed or not). */
  maxBodyBytes: number;
  /** Largest body after decompression: the gzip-bomb guard. */
  maxDecompressedBytes: number;
  /** Spans in one request; more is refused as a whole (413-class). */
  maxSpansPerRequest: number;
  /** Entries kept in AgentSpan.attributes; the rest are counted, not kept. */
  maxAttributesPerSpan: number;
  /** Longest attribute key kept; longer keys are truncated. */
  maxAttributeKeyLength: number;
  /** Longest stringified attribute value (and lifted scalar field) kept; longer ones are truncated. */
  maxAttributeValueLength: number;
  /** A delegation chain with more links than this is not kept (chain = null, chainError chain.too_deep). */
  maxChainLinks: number;
  /** A chain with a link (compact JWS) longer than this is not kept either (chainError token.too_large). */
  maxChainLinkLength: number;
}

export const DEFAULT_INGEST_LIMITS: Readonly<IngestLimits> = Object.freeze({
  maxBodyBytes: 8 * 1024 * 1024,
  maxDecompressedBytes: 32 * 1024 * 1024,
  maxSpansPerRequest: 20_000,
  maxAttributesPerSpan: 128,
  maxAttributeKeyLength: 256,
  maxAttributeValueLength: 4096,
  maxChainLinks: 32,
  maxChainLinkLength: 16 * 1024,
});

/** Fills unset limits with defaults; refuses anything that is not a positive integer. */
export function resolveIngestLimits(overrides: Partial<IngestLimits> = {}): IngestLimits {
  const limits = { ...DEFAULT_INGEST_LIMITS };
  for (const [key, value] of Object.entries(overrides) as Array<[keyof IngestLimits, unknown]>) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_INGEST_LIMITS)) throw new TypeError(`unknown ingest limit: ${String(key)}`);
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      throw new TypeError(`ingest limit ${key} must be a positive integer, got ${String(value)}`);
    }
    limits[key] = value;
  }
  return limits;
}

/** A delivery exceeded a limit; HTTP sources answer 413, Kafka sources dead-letter it. */
export class LimitError extends Error {
  readonly status = 413;
  constructor(
    readonly limit: keyof IngestLimits,
    message: string,
  ) {
    super(message);
    this.name = 'LimitError';
  }
}
