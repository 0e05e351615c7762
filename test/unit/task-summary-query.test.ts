import { test } from 'node:test';
import assert from 'node:assert/strict';
import { candidatesStatement, countsStatement, failedRecountStatement } from '../../src/store/task-summary-query.js';

const hostile = "x' OR 1=1) --";

test('every filter value is a parameter, never statement text', () => {
  const f = { human: hostile, agent: hostile, trustDomains: [hostile], fromMs: 1, toMs: 2, verdict: 'failed' as const };
  const statements = [
    candidatesStatement('db', f, { sortMs: 5, taskId: hostile }, 10),
    countsStatement('db', [hostile], [hostile]),
    failedRecountStatement('db', [hostile], [hostile]),
  ];
  for (const s of statements) {
    assert.ok(!s.query.includes(hostile), s.query);
    assert.ok(JSON.stringify(s.params).includes(JSON.stringify(hostile).slice(1, -1)), 'the value travels as a parameter');
  }
});

test('each filter narrows the candidates by the task IDs it names before merging, and checks itself again after', () => {
  const none = candidatesStatement('db', {}, null, 10);
  assert.ok(!/task_id IN \(SELECT/.test(none.query), 'no filter, no pre-selection');
  assert.ok(!none.query.includes('HAVING'), 'no filter, no check');
  const human = candidatesStatement('db', { human: 'h', trustDomains: ['td'] }, null, 10);
  assert.match(human.query, /task_id IN \(SELECT task_id FROM db\.task_summary WHERE has\(finalizeAggregation\(humans\), \{human:String\}\) AND trust_domain IN \{tds:Array\(String\)\}\)/);
  assert.match(human.query, /HAVING has\(hs, \{human:String\}\)/);
  // "verified" is not a property of one partial row, so it is only checked after merging.
  const verified = candidatesStatement('db', { verdict: 'verified' }, null, 10);
  assert.ok(!/task_id IN \(SELECT/.test(verified.query));
  assert.match(verified.query, /HAVING \(ffa IS NULL OR maybe_reinstated\)/);
  const page = candidatesStatement('db', {}, { sortMs: 7, taskId: 't' }, 10);
  assert.deepEqual([page.params.after_ms, page.params.after_task], [7, 't']);
  assert.match(page.query, /ORDER BY sort_ms DESC, task_id ASC/);
});
