/**
 * OTLP/HTTP trace receiver: POST /v1/traces in protobuf or JSON, gzip or
 * identity (deflate too). Answers only after the sink (the pipeline) has
 * stored the spans, so an OTel exporter's 200 means "stored"; a store outage
 * answers 503 + Retry-After, which OTLP exporters retry. Spans the store
 * refused for good (quarantined by the sink) are named in a 200's
 * partial_success: retrying them could only fail again.
 *
 * Mount it before any body-parsing middleware: it reads the raw body itself
 * (a Buffer left in req.body by express.raw is used as is).
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import express, { type Request, type Response } from 'express';
import type { SpanSink } from '../pipeline/types.js';
import { type AdmissionController, type Refusal, type Reservation, isRefusal } from './admission.js';
import { type IngestLimits, LimitError } from './limits.js';
import { type OtlpFormat, decodeOtlp } from './otlp/decode.js';
import { OtlpDecodeError } from './otlp/errors.js';
import { stampReceived } from '../verify/received-time.js';
import type { AuthenticatedPeer } from '../model/span.js';
import { EmitterAuthError } from './otlp-auth.js';
import { RPC_CODE, contentTypeOf, encodeExportResponse, encodeRpcStatus } from './otlp/responses.js';

/** Hooks for counters; the caller wires them to prom-client. All optional. */
export interface ReceiverMetrics {
  /**
   * One per answered request. encoding is 'unknown' when the Content-Type was
   * refused; bytes is the body size as received (0 when it was not read).
   */
  request?(status: number, encoding: OtlpFormat | 'unknown', bytes: number): void;
  /** Spans in a decoded request, and how many of them were rejected (by decoding or by the sink). */
  spans?(received: number, rejected: number, encoding: OtlpFormat): void;
  decodeError?(encoding: OtlpFormat): void;
  /** Body size after decompression (equal to the wire size for identity). */
  decompressedBytes?(bytes: number, encoding: OtlpFormat): void;
}

/** The subset of a pino logger the receiver uses. */
export interface ReceiverLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface OtlpRouterOptions {
  sink: SpanSink;
  limits: IngestLimits;
  metrics?: ReceiverMetrics;
  logger?: ReceiverLogger;
  /** Retry-After on 503 (store unavailable). Default 5 seconds. */
  retryAfterSeconds?: number;
  /** Bounds the memory in-flight requests hold; without it every request is admitted. */
  admission?: AdmissionController;
  /**
   * Proves the request's sender (mTLS client certificate, JWT-SVID bearer);
   * undefined: it presented nothing. Throws EmitterAuthError (answered 401)
   * for credentials that do not verify. Without it no span has a peer.
   */
  authenticate?: (req: Request) => Promise<AuthenticatedPeer | undefined>;
}

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
/** Cap on the partial-success error_message we send back. */
const MAX_ERROR_MESSAGE = 1024;

/** Why a request failed, with the HTTP status and the google.rpc code to answer with. */
class RequestFailure extends Error {
  constructor(
    readonly status: number,
    readonly rpcCode: number,
    message: string,
  ) {
    super(message);
  }
}

export function createOtlpRouter(opts: OtlpRouterOptions): express.Router {
  const router = express.Router();
  const { sink, limits, metrics = {}, logger, admission, authenticate } = opts;
  const retryAfter = String(opts.retryAfterSeconds ?? 5);

  router.post('/v1/traces', async (req: Request, res: Response) => {
    const format = formatOf(req.headers['content-type']);
    let wireBytes = 0;
    let reservation: Reservation | undefined;
    try {
      if (format === null) {
        throw new RequestFailure(
          415,
          RPC_CODE.invalidArgument,
          `unsupported Content-Type ${JSON.stringify(req.headers['content-type'] ?? '')}: use application/x-protobuf or application/json`,
        );
      }
      const contentEncoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
      if (!['identity', 'gzip', 'x-gzip', 'deflate', ''].includes(contentEncoding)) {
        throw new RequestFailure(
          415,
          RPC_CODE.invalidArgument,
          `unsupported Content-Encoding ${JSON.stringify(contentEncoding)}: use gzip, deflate or identity`,
        );
      }
      // Before the body: a sender whose credentials fail costs no memory.
      let peer: AuthenticatedPeer | undefined;
      try {
        peer = await authenticate?.(req);
      } catch (err) {
        if (!(err instanceof EmitterAuthError)) throw err;
        res.setHeader('WWW-Authenticate', 'Bearer realm="otlp"');
        throw new RequestFailure(401, RPC_CODE.unauthenticated, `sender not authenticated: ${err.message.slice(0, MAX_ERROR_MESSAGE)}`);
      }
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > limits.maxBodyBytes) throw tooLarge(limits.maxBodyBytes, 'body');

      // Admission before reading the body: a declared length reserves its whole
      // estimate (waiting briefly for room); a chunked body reserves as it arrives.
      let onChunk: ((received: number) => void) | undefined;
      if (admission) {
        const gone = new AbortController();
        res.once('close', () => gone.abort());
        const admitted = await admission.admitWaiting(Number.isFinite(declared) ? admission.cost(declared) : 0, gone.signal);
        if (isRefusal(admitted)) throw refusalFailure(admitted, res);
        reservation = admitted;
        const held = reservation;
        onChunk = (received) => {
          const refusal = received * (1 + admission.expansion) > held.bytes ? held.resize(admission.cost(received)) : null;
          if (refusal) throw refusalFailure(refusal, res);
        };
      }
      const wire = await readBody(req, limits.maxBodyBytes, onChunk);
      wireBytes = wire.length;
      // Received: when the last byte arrived, by this process's clock (the span's start is bounded by it).
      const receivedAtMs = Date.now();
      const body = await decompress(wire, contentEncoding, limits.maxDecompressedBytes);
      if (admission && reservation) {
        // The true size is known now: a compressed body grows, an overestimate shrinks.
        const refusal = reservation.resize(admission.cost(wire.length, body.length));
        if (refusal) throw refusalFailure(refusal, res);
      }
      metrics.decompressedBytes?.(body.length, format);

      let decoded;
      try {
        decoded = decodeOtlp(body, format, limits);
      } catch (err) {
        if (err instanceof OtlpDecodeError) {
          metrics.decodeError?.(format);
          throw new RequestFailure(400, RPC_CODE.invalidArgument, err.message);
        }
        if (err instanceof LimitError) throw new RequestFailure(413, RPC_CODE.invalidArgument, err.message);
        throw err;
      }

      stampReceived(decoded.spans, receivedAtMs);
      if (peer !== undefined) for (const s of decoded.spans) s.peer = peer;
      let rejected = decoded.rejected;
      const errors = [...decoded.errors];
      if (decoded.spans.length > 0) {
        try {
          const result = await sink.ingest(decoded.spans);
          rejected += result.rejected;
          errors.push(...result.errors);
        } catch (err) {
          // Rows the store refuses for good come back in the result (200 with
          // partial_success), not here. A failure marked permanent anyway is
          // the request's own fault: 400, which exporters do not retry. Anything
          // else is an outage: 503, which they do.
          if (isPermanent(err)) {
            logger?.warn({ err }, 'span sink refused the request for good');
            throw new RequestFailure(400, RPC_CODE.invalidArgument, `spans refused: ${(err as Error).message.slice(0, MAX_ERROR_MESSAGE)}`);
          }
          logger?.error({ err }, 'span sink failed; answering 503 so the exporter retries');
          res.setHeader('Retry-After', retryAfter);
          throw new RequestFailure(503, RPC_CODE.unavailable, 'span store unavailable, retry later');
        }
      }
      metrics.spans?.(decoded.spans.length + decoded.rejected, rejected, format);
      const message = errors.join('; ');
      reply(
        res,
        200,
        format,
        encodeExportResponse(
          format,
          rejected > 0 || message !== ''
            ? { rejectedSpans: rejected, errorMessage: message.slice(0, MAX_ERROR_MESSAGE) }
            : undefined,
        ),
      );
      metrics.request?.(200, format, wireBytes);
    } catch (err) {
      const failure =
        err instanceof RequestFailure
          ? err
          : err instanceof LimitError
            ? new RequestFailure(413, RPC_CODE.invalidArgument, err.message)
            : null;
      if (failure === null) logger?.error({ err }, 'OTLP receiver failed unexpectedly');
      // Throttling (429) is counted, not logged: under a flood it is every other request.
      else if (failure.status !== 503 && failure.status !== 429) logger?.warn({ status: failure.status, reason: failure.message }, 'OTLP request refused');
      const status = failure?.status ?? 500;
      const errorFormat = format ?? 'json';
      if (!res.headersSent) {
        reply(
          res,
          status,
          errorFormat,
          encodeRpcStatus(errorFormat, failure?.rpcCode ?? RPC_CODE.internal, failure?.message ?? 'internal error'),
        );
      }
      metrics.request?.(status, format ?? 'unknown', wireBytes);
    } finally {
      // Answered, or failed on any path (client gone, store down): the bytes are free again.
      reservation?.release();
    }
  });
  return router;
}

/** Errors that say retrying cannot help (e.g. StoreError with permanent: true). */
function isPermanent(err: unknown): boolean {
  return err instanceof Error && (err as { permanent?: unknown }).permanent === true;
}

function reply(res: Response, status: number, format: OtlpFormat, body: Buffer): void {
  res.status(status);
  res.setHeader('Content-Type', contentTypeOf(format));
  res.end(body);
}

/** application/x-protobuf or application/json, parameters (charset) ignored. */
export function formatOf(contentType: string | undefined): OtlpFormat | null {
  if (contentType === undefined) return null;
  const semi = contentType.indexOf(';');
  const type = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  if (type === 'application/x-protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  return null;
}

/** A refused admission as an answer: 429 + Retry-After (OTLP's throttling signal), or 413 when it can never fit. */
function refusalFailure(refusal: Refusal, res: Response): RequestFailure {
  if (refusal.kind === 'too_large') return new RequestFailure(413, RPC_CODE.invalidArgument, refusal.message);
  res.setHeader('Retry-After', String(refusal.retryAfterSeconds));
  return new RequestFailure(429, RPC_CODE.resourceExhausted, refusal.message);
}

function tooLarge(limit: number, what: string): RequestFailure {
  return new RequestFailure(413, RPC_CODE.invalidArgument, `${what} exceeds the limit of ${limit} bytes`);
}

/**
 * Reads the raw body, refusing (413) as soon as it passes limit bytes.
 * onChunk sees the running total and may throw to stop reading (admission).
 */
function readBody(req: Request, limit: number, onChunk?: (received: number) => void): Promise<Buffer> {
  if (Buffer.isBuffer(req.body)) {
    return req.body.length > limit ? Promise.reject(tooLarge(limit, 'body')) : Promise.resolve(req.body);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      fn();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      // Past the limit: stop buffering; Node discards the rest of the body.
      if (size > limit) return settle(() => reject(tooLarge(limit, 'body')));
      try {
        onChunk?.(size);
      } catch (err) {
        return settle(() => reject(err));
      }
      chunks.push(chunk);
    };
    const onEnd = () => settle(() => resolve(Buffer.concat(chunks, size)));
    const onError = (err: Error) => settle(() => reject(err));
    const onClose = () => settle(() => reject(new Error('request closed before its body was read')));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/** Inflates with an output cap (the gzip-bomb guard): 413 beyond it, 400 for a corrupt stream. */
async function decompress(wire: Buffer, encoding: string, maxOutput: number): Promise<Buffer> {
  if (encoding === 'identity' || encoding === '') {
    if (wire.length > maxOutput) throw tooLarge(maxOutput, 'decompressed body');
    return wire;
  }
  try {
    return encoding === 'deflate'
      ? await inflate(wire, { maxOutputLength: maxOutput })
      : await gunzip(wire, { maxOutputLength: maxOutput });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(maxOutput, 'decompressed body');
    throw new RequestFailure(400, RPC_CODE.invalidArgument, `body is not valid ${encoding} data: ${(err as Error).message}`);
  }
}
