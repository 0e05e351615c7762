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

export type Operation = {
  'x-chainsight-access': 'open' | 'viewer' | 'responder' | 'admin';
  'x-chainsight-tenancy'?: 'own' | 'every';
  'x-chainsight-list'?: string;
  parameters: Array<{ name: string; in: 'path' | 'query' }>;
  requestBody?: { content: Record<string, { example?: unknown }> };
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: { $ref?: string } }> }>;
};

/** Every operation the document describes, as method (upper case), path and operation. */
export function documentedOperations(): Array<{ method: string; path: string; op: Operation }> {
  const paths = OPENAPI_DOCUMENT.paths as unknown as Record<string, Record<string, Operation>>;
  return Object.entries(paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ method: method.toUpperCase(), path, op })));
}

export function operation(path: string, method = 'GET'): Operation {
  const op = (OPENAPI_DOCUMENT.paths as unknown as Record<string, Record<string, Operation>>)[path]?.[method.toLowerCase()];
  assert.ok(op, `${method} ${path} is documented`);
  return op;
}

/** The status an operation documents for success. */
export const successStatus = (op: Operation): number => Number(Object.keys(op.responses).find((s) => s.startsWith('2')));

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
export function assertDocumented(path: string, res: DocumentedAnswer, method = 'GET'): void {
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
