import { test } from 'node:test';
import assert from 'node:assert/strict';
import { candidatesStatement, countsStatement, failedRecountStatement } from '../../src/store/task-summary-query.js';
import { orderWindowStatement, windowFloor } from '../../src/store/task-search-index.js';

const hostile = "x' OR 1=1) --";

test('every filter value is a parameter, never statement text', () => {
  const f = { human: hostile, agent: hostile, trustDomains: [hostile], fromMs: 1, toMs: 2, verdict: 'failed' as const };
  const statements = [
    candidatesStatement('db', f, { sortMs: 5, taskId: hostile }, 10),
    candidatesStatement('db', f, { sortMs: 5, taskId: hostile }, 10, 'summary'),
    candidatesStatement('db', { ...f, ids: [hostile] }, null, 10),
    orderWindowStatement('db', f, 5, 10),
    countsStatement('db', [hostile], [hostile]),
    failedRecountStatement('db', [hostile], [hostile]),
  ];
  for (const s of statements) {
    assert.ok(!s.query.includes(hostile), s.query);
    assert.ok(JSON.stringify(s.params).includes(JSON.stringify(hostile).slice(1, -1)), 'the value travels as a parameter');
  }
});

test('human, agent and failed filters are primary-key ranges of task_keys, in the window and in the merge', () => {
  const f = { human: 'h', agent: 'a', verdict: 'failed' as const, trustDomains: ['td'] };
  const window = orderWindowStatement('db', f, 9, 64);
  const merge = candidatesStatement('db', { ...f, ids: ['t1'], floorMs: 3, ceilingMs: 9 }, null, 10);
  // Without a window (a time range), the merge looks the keys up itself.
  const unwindowed = candidatesStatement('db', { ...f, fromMs: 1 }, null, 10);
  const wideMerge = candidatesStatement('db', { ...f, ids: ['t1'], floorMs: 3, ceilingMs: 9 }, null, 10, 'keys-wide');
  for (const s of [window, unwindowed, wideMerge]) {
    assert.match(s.query, /task_id IN \(SELECT task_id FROM db\.task_keys WHERE kind = 'human' AND key = \{human:String\} AND trust_domain IN \{tds:Array\(String\)\}\)/);
    assert.match(s.query, /kind = 'agent' AND key = \{agent:String\}/);
    assert.match(s.query, /kind = 'failed' AND key = ''/);
    assert.ok(!s.query.includes('finalizeAggregation'), 'no set of every task is read');
  }
  assert.match(window.query, /FROM db\.task_order\s+WHERE .*sort_ms <= \{ceiling:Int64\} AND trust_domain IN .* ORDER BY sort_ms DESC, task_id DESC\s+LIMIT \{size:UInt32\}/s);
  assert.match(merge.query, /task_id IN \{ids:Array\(String\)\}/);
  // A window's tasks were found by those keys already: the merge reads their page columns (migration 016) and no key again.
  assert.ok(!merge.query.includes('task_keys'), merge.query);
  assert.match(merge.query, /FROM db\.task_page\s/);
  assert.ok(!merge.query.includes('task_summary'), merge.query);
  assert.match(unwindowed.query, /FROM db\.task_page\s/);
  assert.ok(!unwindowed.query.includes('task_summary'), 'a time range scans the page columns too');
  assert.match(wideMerge.query, /FROM db\.task_summary\s/);
  assert.match(merge.query, /sort_ms > \{floor_ms:Int64\} AND sort_ms <= \{ceiling_ms:Int64\}/);
  // A window shorter than asked reached the end of the index; a full one ends at its last row's key.
  assert.equal(windowFloor([['t', '5']], 2), null);
  assert.equal(windowFloor([['t', '7'], ['u', '5']], 2), 5);
});

test('without the indexes, each filter narrows the candidates by the task IDs it names before merging, and checks itself again after', () => {
  const none = candidatesStatement('db', {}, null, 10, 'summary');
  assert.ok(!/task_id IN \(SELECT/.test(none.query), 'no filter, no pre-selection');
  assert.ok(!none.query.includes('HAVING'), 'no filter, no check');
  const human = candidatesStatement('db', { human: 'h', trustDomains: ['td'] }, null, 10, 'summary');
  assert.match(human.query, /task_id IN \(SELECT task_id FROM db\.task_summary WHERE has\(finalizeAggregation\(humans\), \{human:String\}\) AND trust_domain IN \{tds:Array\(String\)\}\)/);
  assert.match(human.query, /HAVING has\(hs, \{human:String\}\)/);
  // "verified" is not a property of one partial row, so it is only checked after merging.
  const verified = candidatesStatement('db', { verdict: 'verified' }, null, 10, 'summary');
  assert.ok(!/task_id IN \(SELECT/.test(verified.query));
  assert.match(verified.query, /HAVING \(ffa IS NULL OR maybe_reinstated\)/);
  const page = candidatesStatement('db', {}, { sortMs: 7, taskId: 't' }, 10);
  assert.deepEqual([page.params.after_ms, page.params.after_task], [7, 't']);
  assert.match(page.query, /ORDER BY sort_ms DESC, task_id ASC/);
});
