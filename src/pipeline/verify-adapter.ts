import type { AgentSpan } from '../model/span.js';
import type { ChainVerifier } from '../verify/index.js';
import type { SpanVerification, VerifyFn } from './processor.js';

/** Binds the chain verifier to the processor's VerifyFn shape. */
export function verifyWith(verifier: ChainVerifier): VerifyFn {
  return (span: AgentSpan): SpanVerification => verifier.verifyDetailed(span);
}
