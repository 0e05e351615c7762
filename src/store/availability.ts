/**
 * ClickHouse error codes that mean "the store cannot serve right now", not
 * "this query is wrong": the server is overloaded, shutting down, or a replica
 * or the network is unavailable. Anything else the server answers is an error
 * in chainsight's own query.
 */
const UNAVAILABLE_CODES = new Set([
  '60', // UNKNOWN_TABLE: the schema is missing or being migrated
  '81', // UNKNOWN_DATABASE
  '159', // TIMEOUT_EXCEEDED
  '164', // READONLY
  '202', // TOO_MANY_SIMULTANEOUS_QUERIES
  '209', // SOCKET_TIMEOUT
  '210', // NETWORK_ERROR
  '241', // MEMORY_LIMIT_EXCEEDED
  '242', // TABLE_IS_READ_ONLY
  '252', // TOO_MANY_PARTS
  '319', // UNKNOWN_STATUS_OF_INSERT
  '394', // QUERY_WAS_CANCELLED
  '425', // SYSTEM_ERROR
  '999', // KEEPER_EXCEPTION
]);

/** Node socket errors and client time-outs: the store was not reached. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND']);

/** True when an error from the store means it is unavailable (answer 503), false for a query error (500). */
export function isStoreUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  if (isEngineError(err)) return UNAVAILABLE_CODES.has(code!);
  if (code !== undefined && NETWORK_CODES.has(code)) return true;
  // The HTTP client reports these without an errno code.
  return /timeout|socket hang up|connection (refused|reset)/i.test(err.message);
}

/**
 * An error the engine answered, with its numeric code. Matched by shape: the
 * HTTP client and the chdb connection each carry their own copy of the
 * ClickHouseError class, so `instanceof` fails across them.
 */
export function isEngineError(err: Error): err is Error & { code: string; type?: string } {
  const code = (err as { code?: unknown }).code;
  return err.name === 'ClickHouseError' || (err.constructor?.name === 'ClickHouseError' && typeof code === 'string' && /^\d+$/.test(code));
}
