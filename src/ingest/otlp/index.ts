export { decodeOtlp, type OtlpFormat } from './decode.js';
export type { DecodeResult } from './result.js';
export { OtlpDecodeError } from './errors.js';
export { DROPPED_ATTRIBUTES_KEY } from './mapping.js';
export { encodeExportResponse, encodeRpcStatus, RPC_CODE, contentTypeOf } from './responses.js';
