/**
 * OTLP AnyValue as plain JS values, shared by both wire decoders, and the
 * rules that turn them into the strings AgentSpan keeps.
 */

/** An OTLP kvlistValue (kept distinct from arrays and from the other values). */
export class KvList {
  constructor(readonly entries: Array<[string, AttrValue]>) {}
}

/**
 * string_value → string, bool_value → boolean, int_value → number (bigint
 * beyond 2^53), double_value → number, bytes_value → Uint8Array,
 * array_value → array, kvlist_value → KvList, empty AnyValue → undefined.
 */
export type AttrValue = string | boolean | number | bigint | Uint8Array | KvList | AttrValue[] | undefined;

/** OTLP's name for a value's type, for error messages ("got string"). */
export function describeValue(value: AttrValue): string {
  if (value === undefined) return 'an empty value';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'bigint') return 'int';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'double';
  if (value instanceof Uint8Array) return 'bytes';
  if (value instanceof KvList) return 'kvlist';
  const other = value.find((v) => typeof v !== 'string');
  return other === undefined ? 'array of strings' : `array containing ${describeValue(other)}`;
}

function toJsonable(value: AttrValue): unknown {
  if (value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (value instanceof KvList) {
    const obj: Record<string, unknown> = {};
    for (const [k, v] of value.entries) obj[k] = toJsonable(v);
    return obj;
  }
  if (Array.isArray(value)) return value.map(toJsonable);
  return value;
}

/**
 * A value as analysts read it: strings as-is, scalars via String(), bytes as
 * base64, arrays and kvlists as JSON. Truncated to maxLength characters.
 */
export function stringifyValue(value: AttrValue, maxLength: number): string {
  let s: string;
  if (typeof value === 'string') s = value;
  else if (value === undefined) s = '';
  else if (typeof value === 'object') {
    s =
      value instanceof Uint8Array
        ? Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')
        : JSON.stringify(toJsonable(value));
  } else s = String(value);
  return s.length > maxLength ? s.slice(0, maxLength) : s;
}
