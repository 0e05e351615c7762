import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTaskCursor, encodeTaskCursor, InvalidCursor } from '../../src/store/task-summary-cursor.js';

test('a cursor round-trips any task ID and any position in range', () => {
  for (const c of [
    { sortMs: 1_764_400_000_000, taskId: 'task-1' },
    { sortMs: -2_208_988_800_000, taskId: 'ta.sk/ü 😀 \' OR 1=1' },
    { sortMs: 0, taskId: 'x'.repeat(700) },
  ]) assert.deepEqual(decodeTaskCursor(encodeTaskCursor(c)), c);
});

test('anything but a canonical cursor is refused', () => {
  const good = encodeTaskCursor({ sortMs: 5, taskId: 'task' });
  for (const bad of [
    '', good + '=', good.replace('v1', 'v2'), good.replace('.5.', '.05.'), good.replace('.5.', '.+5.'), 'v1.-0.dGFzaw',
    'v1.5.', 'v1.5.dGFzaw.extra', 'v1.9007199254740993.dGFzaw', `v1.5.${'A'.repeat(2000)}`,
    `v1.5.${Buffer.from([0xff, 0xfe]).toString('base64url')}`, // not UTF-8
  ]) assert.throws(() => decodeTaskCursor(bad), InvalidCursor, JSON.stringify(bad));
});
