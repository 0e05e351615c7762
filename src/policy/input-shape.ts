/**
 * Shape check of an engine input before any rule runs. The engine is handed
 * data built from hostile spans (and, through the OPA option or tests, from
 * anywhere), so it proves the types it relies on first; whatever does not fit
 * is denied as `policy.input.invalid` naming what is wrong.
 */
import { isScope } from './scope-select.js';
import type { ActionPolicyInput, ChainPolicyInput } from './types.js';

/** Most links and approvals the engine will look at (the token spec caps chains at 32 links). */
export const MAX_LINKS = 64;
export const MAX_APPROVALS = 64;

export interface ShapeProblem {
  link?: number;
  message: string;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown, max = 2048): v is string => typeof v === 'string' && v.length <= max;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isScopes = (v: unknown): v is string[] => Array.isArray(v) && v.length <= 256 && v.every(isScope);

/** Problems with a chain input's shape (empty when it can be judged). */
export function chainShapeProblems(input: unknown): ShapeProblem[] {
  if (!isObj(input)) return [{ message: 'input is not an object' }];
  const out: ShapeProblem[] = [];
  const { depth, links, approvals } = input;
  if (!Number.isSafeInteger(depth) || (depth as number) < 0) out.push({ message: 'depth is not a non-negative integer' });
  if (!Array.isArray(links) || links.length === 0 || links.length > MAX_LINKS) {
    out.push({ message: `links must be an array of 1 to ${MAX_LINKS} links` });
  } else {
    links.forEach((l: unknown, i) => {
      if (!isObj(l)) return out.push({ link: i, message: 'link is not an object' });
      if (!isStr(l.iss) || !isStr(l.sub) || !isStr(l.hash, 128) || !isStr(l.trustDomain, 255)) out.push({ link: i, message: 'iss, sub, hash or trustDomain is not a string of sane length' });
      if (!isNum(l.iat) || !isNum(l.nbf) || !isNum(l.exp)) out.push({ link: i, message: 'iat, nbf or exp is not a finite number' });
      if (!isScopes(l.scope) || (l.scope as string[]).length === 0) out.push({ link: i, message: 'scope is not a list of 1 to 256 well-formed scopes (printable ASCII, * only last)' });
      return undefined;
    });
  }
  if (!Array.isArray(approvals) || approvals.length > MAX_APPROVALS) {
    out.push({ message: `approvals must be an array of at most ${MAX_APPROVALS}` });
  } else {
    approvals.forEach((a: unknown, i) => {
      const bad = !isObj(a) || typeof a.verified !== 'boolean' || !isStr(a.hash, 128) || !isStr(a.error) || !isStr(a.linkHash, 128) || !isStr(a.approver) || !isScopes(a.scope) || !isNum(a.iat) || !isNum(a.exp);
      if (bad) out.push({ message: `approval ${i} is malformed` });
    });
  }
  return out;
}

/** Problems with the action part alone. */
export function actionPartProblems(action: unknown): ShapeProblem[] {
  if (!isObj(action) || !isStr(action.agent) || !isScopes(action.scopes) || !isNum(action.atMs)) {
    return [{ message: 'action must have agent (string), scopes (well-formed scopes) and atMs (number)' }];
  }
  return [];
}

/** Chain problems plus the action's. */
export function actionShapeProblems(input: unknown): ShapeProblem[] {
  return [...chainShapeProblems(input), ...actionPartProblems(isObj(input) ? input.action : undefined)];
}

export type { ActionPolicyInput, ChainPolicyInput };
