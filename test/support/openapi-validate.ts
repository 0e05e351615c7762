/**
 * Test helper: checks an API answer against the OpenAPI document, with ajv
 * (JSON Schema 2020-12, the dialect OpenAPI 3.1 uses).
 */
import assert from 'node:assert/strict';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { OPENAPI_DOCUMENT } from '../../src/serve/openapi.js';

export interface DocumentedAnswer {
  status: number;
  headers: Headers;
  /** Parsed JSON, or the text of a non-JSON answer. */
  body: unknown;
}

export const DOC_ID = 'urn:chainsight:openapi';
const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addSchema({ $id: DOC_ID, ...OPENAPI_DOCUMENT });

export type Operation = { responses: Record<string, { $ref?: string; content?: Record<string, { schema: { $ref?: string } }> }> };
export const operation = (path: string, method = 'get'): Operation => (OPENAPI_DOCUMENT.paths as unknown as Record<string, Record<string, Operation>>)[path]![method]!;

/** Resolves a `#/…` pointer in the document. */
export function resolvePointer(ref: string): any {
  assert.ok(ref.startsWith('#/'), ref);
  let node: any = OPENAPI_DOCUMENT;
  for (const part of ref.slice(2).split('/')) {
    node = node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    assert.ok(node !== undefined, `${ref} resolves`);
  }
  return node;
}

/** Asserts an answer is documented for its route and status, and validates against its schema. */
export function assertDocumented(path: string, res: DocumentedAnswer, method = 'get'): void {
  let response = operation(path, method).responses[String(res.status)];
  assert.ok(response, `${path}: status ${res.status} is documented`);
  if (response.$ref) response = resolvePointer(response.$ref);
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!;
  const media = response!.content?.[type];
  assert.ok(media, `${path} ${res.status}: content type ${type} is documented`);
  if (typeof res.body === 'string') {
    assert.equal(media.schema.$ref ?? (media.schema as { type?: string }).type, 'string');
    return;
  }
  const validate = ajv.compile(media.schema.$ref ? { $ref: `${DOC_ID}${media.schema.$ref}` } : media.schema);
  assert.ok(validate(res.body), `${path} ${res.status}: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
}

/** The validator of one named component schema. */
export function compileSchema(name: string): ValidateFunction {
  return ajv.compile({ $ref: `${DOC_ID}#/components/schemas/${name}` });
}
