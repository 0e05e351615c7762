/**
 * What a span's `gen_ai.operation.name` means for verification
 * (schemas/span-attributes.md, "Operations"). Names compare exactly as the
 * GenAI semantic conventions (v1.41.0) spell them: no case folding, trimming
 * or Unicode normalisation, so that no other spelling of `execute_tool` can
 * pass for a different operation. Pure.
 */

/** The well-known values of `gen_ai.operation.name` in semantic conventions v1.41.0. */
export const WELL_KNOWN_OPERATIONS: readonly string[] = [
  'chat',
  'create_agent',
  'embeddings',
  'execute_tool',
  'generate_content',
  'invoke_agent',
  'invoke_workflow',
  'retrieval',
  'text_completion',
];

/**
 * Well-known operations that act on something outside the agent (a tool, a
 * data source): they must declare the scopes they used.
 */
export const SCOPED_OPERATIONS: ReadonlySet<string> = new Set(['execute_tool', 'retrieval']);

const WELL_KNOWN: ReadonlySet<string> = new Set(WELL_KNOWN_OPERATIONS);

/** The conventions' own spelling: lowercase ASCII words joined by `_`. */
const WELL_FORMED = /^[a-z][a-z0-9_]{0,63}$/;

/**
 * - `missing`: no operation name, so the span cannot be judged;
 * - `malformed`: not spelled as the conventions spell names (case, spaces,
 *   look-alike letters, punctuation), so it may be posing as another one;
 * - `scoped`: must declare `chainsight.scope.used`: `execute_tool`,
 *   `retrieval`, and any well-formed name the conventions do not define
 *   (its meaning is unknown, so it is judged as the strictest known kind);
 * - `unscoped`: a well-known operation that need not declare scopes
 *   (declared ones are still checked).
 */
export type OperationKind = 'missing' | 'malformed' | 'scoped' | 'unscoped';

export function operationKind(operation: string): OperationKind {
  if (WELL_KNOWN.has(operation)) return SCOPED_OPERATIONS.has(operation) ? 'scoped' : 'unscoped';
  if (operation === '') return 'missing';
  return WELL_FORMED.test(operation) ? 'scoped' : 'malformed';
}

export function isWellKnownOperation(operation: string): boolean {
  return WELL_KNOWN.has(operation);
}
