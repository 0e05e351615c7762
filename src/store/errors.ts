/**
 * Store failures that say whether retrying can help. `permanent` means the
 * same rows, sent again in the same batch, will be refused again: the data is
 * at fault, not the store, so retrying only stalls the caller. Transient means
 * the store is unavailable or overloaded and the same INSERT may succeed later.
 */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    message: string,
    readonly permanent: boolean,
    /** ClickHouse's error name (e.g. CANNOT_PARSE_DATETIME), a Node error code (ECONNREFUSED), or UNKNOWN. */
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A row the store refused for good, with why; `index` is its position in the caller's write. */
export interface RefusedRow<Row> {
  row: Row;
  index: number;
  error: StoreError;
}

/**
 * ClickHouse errors caused by the rows themselves. Each is raised while
 * parsing or checking one value, so one bad row fails its whole INSERT and
 * every other INSERT of that row. Names from ClickHouse's ErrorCodes.cpp;
 * the parse, overflow and escape codes are the ones chdb raised for hostile
 * spans (see test/integration/store-errors.test.ts).
 */
const PERMANENT_NAMES = new Set([
  'TYPE_MISMATCH',
  'ARGUMENT_OUT_OF_BOUND',
  'INCORRECT_DATA',
  'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE',
  'TOO_LARGE_STRING_SIZE',
  'TOO_LARGE_ARRAY_SIZE',
  'SIZES_OF_ARRAYS_DONT_MATCH',
  'DECIMAL_OVERFLOW',
  'VIOLATED_CONSTRAINT',
  'CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN',
  'CANNOT_READ_ALL_DATA',
  'ATTEMPT_TO_READ_AFTER_EOF',
  'INCORRECT_NUMBER_OF_COLUMNS',
  'UNKNOWN_FIELD',
]);

/** The same by number, for errors whose name was not parsed out of the message. */
const PERMANENT_NUMBERS = new Map<string, string>([
  ['6', 'CANNOT_PARSE_TEXT'],
  ['25', 'CANNOT_PARSE_ESCAPE_SEQUENCE'],
  ['26', 'CANNOT_PARSE_QUOTED_STRING'],
  ['27', 'CANNOT_PARSE_INPUT_ASSERTION_FAILED'],
  ['38', 'CANNOT_PARSE_DATE'],
  ['41', 'CANNOT_PARSE_DATETIME'],
  ['53', 'TYPE_MISMATCH'],
  ['69', 'ARGUMENT_OUT_OF_BOUND'],
  ['72', 'CANNOT_PARSE_NUMBER'],
  ['117', 'INCORRECT_DATA'],
  ['131', 'TOO_LARGE_STRING_SIZE'],
  ['321', 'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE'],
  ['407', 'DECIMAL_OVERFLOW'],
  ['469', 'VIOLATED_CONSTRAINT'],
]);

/**
 * TOO_MANY_PARTS is transient when merges fall behind, but the same code also
 * refuses one INSERT that spans more than max_partitions_per_insert_block
 * months: a property of the batch, which smaller batches cure. Counted as
 * permanent so the writer splits instead of retrying one batch forever; a
 * single row never spans two partitions, so no row is refused for it.
 */
const PARTITIONS_PER_INSERT = /too many partitions for single insert block/i;

/**
 * Classifies any error from an INSERT. Everything not listed above is
 * transient, deliberately: UNKNOWN_TABLE and UNKNOWN_DATABASE (a migration
 * not applied yet), MEMORY_LIMIT_EXCEEDED, TOO_MANY_PARTS from merges falling
 * behind, TIMEOUT_EXCEEDED, network errors, unknown codes. Quarantining good
 * rows on a guess would hide them from queries, whereas a retry only delays;
 * a data-shaped code missing here shows as a retry loop in the logs and
 * belongs in the lists above.
 */
export function classifyStoreError(err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const engine = engineError(err);
  if (engine !== undefined) {
    const { number } = engine;
    const name = engine.name || PERMANENT_NUMBERS.get(number) || `CLICKHOUSE_${number}`;
    if (name === 'TOO_MANY_PARTS' && PARTITIONS_PER_INSERT.test(message)) {
      return new StoreError(message, true, 'TOO_MANY_PARTITIONS_PER_INSERT', { cause: err });
    }
    const permanent = name.startsWith('CANNOT_PARSE_') || PERMANENT_NAMES.has(name) || PERMANENT_NUMBERS.has(number);
    return new StoreError(message, permanent, name, { cause: err });
  }
  // Node socket errors (ECONNREFUSED, ECONNRESET, ETIMEDOUT...), client timeouts, anything else.
  const code = (err as { code?: unknown } | null)?.code;
  return new StoreError(message, false, typeof code === 'string' && code !== '' ? code : 'UNKNOWN', { cause: err });
}

/**
 * An error the engine answered: its name (when the client parsed one) and its
 * number. Read by shape, not `instanceof`: the HTTP client and the chdb
 * connection each carry their own copy of the ClickHouseError class.
 */
function engineError(err: unknown): { name: string; number: string } | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; type?: unknown };
  const name = typeof e.type === 'string' ? e.type : '';
  const number = typeof e.code === 'string' || typeof e.code === 'number' ? String(e.code) : '';
  return name !== '' || /^\d+$/.test(number) ? { name, number } : undefined;
}

/**
 * Engine error numbers that mean "the store cannot serve right now", not
 * "this query is wrong": the server is overloaded, shutting down, or a replica
 * or the network is unavailable. Anything else the engine answers a read with
 * is an error in chainsight's own query.
 */
const UNAVAILABLE_NUMBERS = new Set([
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

/** Node socket errors: the store was not reached. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND']);

/**
 * For a failed read: true when the store is unavailable (the API answers
 * 503), false when the query itself is at fault (500). A different question
 * from classifyStoreError's, which asks whether an INSERT's rows are.
 */
export function isStoreUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const engine = engineError(err);
  if (engine !== undefined) return UNAVAILABLE_NUMBERS.has(engine.number);
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== undefined && NETWORK_CODES.has(code)) return true;
  // The HTTP client reports these without an errno code.
  return /timeout|socket hang up|connection (refused|reset)/i.test(err.message);
}
