/**
 * The task list's keyset cursor: the position of the last task of a page in
 * the list's order (sort key DESC, task_id ASC). Opaque to callers; whoever
 * hands it out may wrap it (the API signs it), but this decoder trusts
 * nothing: a cursor that is not exactly what `encodeTaskCursor` writes is
 * refused with InvalidCursor, which the API answers as a client error.
 */
export interface TaskCursor {
  /** The task's sort key, epoch milliseconds (see TaskSummary.requested_at). */
  sortMs: number;
  taskId: string;
}

export class InvalidCursor extends Error {
  constructor(why: string) {
    super(`invalid cursor: ${why}`);
    this.name = 'InvalidCursor';
  }
}

/** Longer than any task ID the API accepts, base64url-encoded. */
const MAX_CURSOR = 1024;
const SHAPE = /^v1\.(-?\d{1,16})\.([A-Za-z0-9_-]+)$/;

export function encodeTaskCursor(c: TaskCursor): string {
  return `v1.${c.sortMs}.${Buffer.from(c.taskId, 'utf8').toString('base64url')}`;
}

export function decodeTaskCursor(text: string): TaskCursor {
  if (typeof text !== 'string' || text.length > MAX_CURSOR) throw new InvalidCursor('too long');
  const m = SHAPE.exec(text);
  if (!m) throw new InvalidCursor('not a task list cursor');
  const sortMs = Number(m[1]);
  if (!Number.isSafeInteger(sortMs)) throw new InvalidCursor('position out of range');
  const taskId = Buffer.from(m[2]!, 'base64url').toString('utf8');
  // Only the canonical spelling round-trips: no padding tricks, no invalid UTF-8, no "-0".
  if (encodeTaskCursor({ sortMs, taskId }) !== text) throw new InvalidCursor('not in canonical form');
  return { sortMs, taskId };
}
