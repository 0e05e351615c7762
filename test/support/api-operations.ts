/**
 * Test helper: concrete requests for the documented operations, naming
 * objects of the co.example tenant seeded by api-fixtures.ts. A route with a
 * path parameter not listed here fails the tests that walk every operation
 * until a value is added: a new route cannot go unchecked.
 */
import assert from 'node:assert/strict';
import { INVENTORY, PLANNER, SHARED_PLANNER_SPAN, TASK_SHARED } from './api-fixtures.js';
import { CO_ALERT_ID } from './alerts.js';
import type { Operation } from './openapi-validate.js';

/** A value of each path parameter, naming a seeded object of co.example. */
export const PATH_VALUES: Record<string, string> = {
  taskId: TASK_SHARED,
  agentId: PLANNER,
  spanId: SHARED_PLANNER_SPAN,
  kind: 'agent',
  id: PLANNER,
  delegator: PLANNER,
  delegatee: INVENTORY,
  alertId: CO_ALERT_ID,
};

/** A request path for a documented path template; `over` replaces some parameter values. */
export function concretePath(template: string, over: Record<string, string> = {}): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const v = over[name] ?? PATH_VALUES[name];
    assert.ok(v !== undefined, `no test value for path parameter {${name}}: add one to PATH_VALUES`);
    return encodeURIComponent(v);
  });
}

/** The documented example body of an operation that takes one. */
export function requestBody(op: Operation): Record<string, unknown> | undefined {
  if (op.requestBody === undefined) return undefined;
  const example = op.requestBody.content['application/json']?.example;
  assert.ok(example && typeof example === 'object', 'an operation with a body documents an example of it');
  return example as Record<string, unknown>;
}
