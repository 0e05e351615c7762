/**
 * Fresh trace and span ids for a copy of an OTLP protobuf export body, so one
 * body can be sent many times without the store's de-duplication (by task,
 * trace and span id) folding the copies together. Ids keep their length, so
 * the body is patched in place on a copy by walking the wire format:
 * ExportTraceServiceRequest.resource_spans(1) → ResourceSpans.scope_spans(2)
 * → ScopeSpans.spans(2) → Span.trace_id(1), span_id(2), parent_span_id(4).
 * The first four bytes of every id are XORed with the salt, so parent links
 * inside a copy still match and distinct salts give distinct ids.
 */

const LEN = 2;

function varint(buf: Uint8Array, pos: number): [value: number, next: number] {
  let value = 0;
  let scale = 1;
  for (;;) {
    const byte = buf[pos++];
    if (byte === undefined) throw new Error('truncated varint');
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, pos];
    scale *= 128;
  }
}

/** Calls `onField(field, start, end)` for each length-delimited field in [start, end); skips the rest. */
function eachLenField(buf: Uint8Array, start: number, end: number, onField: (field: number, from: number, to: number) => void): void {
  let pos = start;
  while (pos < end) {
    const [tag, afterTag] = varint(buf, pos);
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    pos = afterTag;
    if (wire === 0) pos = varint(buf, pos)[1];
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === LEN) {
      const [len, from] = varint(buf, pos);
      pos = from + len;
      if (pos > end) throw new Error('length-delimited field overruns its message');
      onField(field, from, pos);
    } else throw new Error(`unsupported wire type ${wire}`);
  }
}

function xorSalt(buf: Uint8Array, from: number, salt: number): void {
  buf[from] = buf[from]! ^ ((salt >>> 24) & 0xff);
  buf[from + 1] = buf[from + 1]! ^ ((salt >>> 16) & 0xff);
  buf[from + 2] = buf[from + 2]! ^ ((salt >>> 8) & 0xff);
  buf[from + 3] = buf[from + 3]! ^ (salt & 0xff);
}

/** A copy of `body` whose ids are unique to `salt` (a 32-bit counter; 0 leaves ids as they are). Returns the copy and its span count. */
export function withFreshIds(body: Uint8Array, salt: number): { body: Buffer; spans: number } {
  const out = Buffer.from(body);
  let spans = 0;
  eachLenField(out, 0, out.length, (f1, a, b) => {
    if (f1 !== 1) return;
    eachLenField(out, a, b, (f2, c, d) => {
      if (f2 !== 2) return;
      eachLenField(out, c, d, (f3, e, g) => {
        if (f3 !== 2) return;
        spans++;
        eachLenField(out, e, g, (field, from, to) => {
          const len = to - from;
          if ((field === 1 && len === 16) || ((field === 2 || field === 4) && len === 8)) xorSalt(out, from, salt);
        });
      });
    });
  });
  return { body: out, spans };
}
