/** The body is not a decodable ExportTraceServiceRequest (HTTP 400, Kafka dead letter). */
export class OtlpDecodeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OtlpDecodeError';
  }
}
