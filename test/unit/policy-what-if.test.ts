/**
 * The what-if core: stored decisions (as the decision log holds them)
 * replayed against a draft. Counts by rule are exact, a span counts once in
 * the totals however many rules deny it, unreadable inputs are counted and
 * not replayed, and time bounds parse or say why not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parsePolicy } from '../../src/policy/loader.js';
import { evaluateAction } from '../../src/policy/engine.js';
import { whatIf, loggedInput, type StoredDecision } from '../../src/policy/what-if.js';
import { parseTimeBound, parseWhatIfRequest, WhatIfRangeError, WhatIfRequestError } from '../../src/policy/what-if-store.js';
import type { CompiledPolicy } from '../../src/policy/compile.js';
import type { ActionPolicyInput } from '../../src/policy/types.js';
import { A, act, chainOf, healthy, shippedPolicy } from '../support/policy-fixtures.js';

const DEFAULT = readFileSync(new URL('../../policies/default.yaml', import.meta.url), 'utf8');
const draftOf = (edit: (yaml: string) => string) => parsePolicy(edit(DEFAULT), 'draft.yaml');

/** A row as the policy stage would have logged it under `policy`. */
function stored(input: ActionPolicyInput, policy: CompiledPolicy, span: string): StoredDecision {
  const d = evaluateAction(policy, input);
  const { action, ...chain } = input;
  return {
    task_id: 'task-1',
    trace_id: 't'.repeat(32),
    span_id: span,
    ts: '2026-11-29 10:00:00.000000000',
    result: d.result,
    reason_codes: d.reasons.map((r) => r.code),
    reason_details: d.reasons.map((r) => r.message),
    revision: d.revision,
    policy_version: d.policyVersion,
    input: JSON.stringify({ action, chain }),
  };
}

const shipped = shippedPolicy();
// Depth 3, reading; depth 1 (planning acting itself); a write delegation living 100 minutes.
const deep = act(healthy(), ['ec2:DescribeInstances']);
const shallow = act(chainOf([{ sub: A('planning'), scope: ['infrastructure:review'], life: 3600 }]), ['cloud:read']);
const longWrite = act(chainOf([{ sub: A('planning'), scope: ['infrastructure:review'], life: 3600 }, { sub: A('report-generator'), scope: ['reports:write'], life: 6000 }]), ['confluence:CreatePage']);

function rows(): StoredDecision[] {
  return [stored(deep, shipped, 's1'), stored(deep, shipped, 's2'), stored(shallow, shipped, 's3'), stored(longWrite, shipped, 's4')];
}

test('the stored input reads back as the engine input it was', () => {
  const r = stored(deep, shipped, 's1');
  assert.deepEqual(loggedInput(r.input), deep);
  assert.equal(r.result, 'allow');
});

test('a stricter draft: newly denied by rule, with exact counts and examples', () => {
  // Depth at most 2 and writes within 90 minutes: the two deep spans and the long write.
  const draft = draftOf((y) => y.replace('max: 5', 'max: 2').replace('maxSec: 7200', 'maxSec: 5400'));
  const r = whatIf(rows(), draft);
  assert.deepEqual(r.totals, { replayed: 4, stillAllowed: 1, stillDenied: 0, reasonsChanged: 0, newlyDenied: 3, newlyAllowed: 0, unreadable: 0 });
  assert.deepEqual(r.newlyDenied.map((c) => [c.rule, c.count]), [['depth.global', 2], ['lifetime.write', 1]]);
  const ex = r.newlyDenied[0]!.examples[0]!;
  assert.deepEqual({ ...ex, message: undefined }, { taskId: 'task-1', traceId: 't'.repeat(32), spanId: 's1', ts: '2026-11-29 10:00:00.000000000', agent: A('cloud-inventory', 'i2'), rule: 'depth.global', link: 2, message: undefined });
  assert.match(ex.message, /3 links, at most 2/);
  assert.deepEqual(r.draft, { version: draft.data.version, revision: draft.data.revision });
  assert.deepEqual(r.storedPolicies, [{ version: shipped.data.version, revision: shipped.data.revision, decisions: 4 }]);
});

test('a span denied by several rules counts once in the totals and once under each rule', () => {
  const draft = draftOf((y) => y.replace('max: 5', 'max: 1').replace('maxSec: 7200', 'maxSec: 60'));
  const r = whatIf([stored(longWrite, shipped, 's4')], draft);
  assert.equal(r.totals.newlyDenied, 1);
  assert.deepEqual(r.newlyDenied.map((c) => [c.rule, c.count]).sort(), [['depth.global', 1], ['lifetime.write', 1]]);
});

test('a looser draft: newly allowed, by the stored rule that denied', () => {
  const strict = draftOf((y) => y.replace('max: 5', 'max: 2'));
  const before = [stored(deep, strict, 's1'), stored(deep, strict, 's2'), stored(shallow, strict, 's3')];
  assert.deepEqual(before.map((b) => b.result), ['deny', 'deny', 'allow']);
  const r = whatIf(before, shipped, { examplesPerRule: 1 });
  assert.deepEqual(r.totals, { replayed: 3, stillAllowed: 1, stillDenied: 0, reasonsChanged: 0, newlyDenied: 0, newlyAllowed: 2, unreadable: 0 });
  assert.deepEqual(r.newlyAllowed.map((c) => [c.rule, c.count, c.examples.length]), [['depth.global', 2, 1]]);
  assert.match(r.newlyAllowed[0]!.examples[0]!.message, /at most 2/);
});

test('the same policy changes nothing; denied by other rules is counted', () => {
  assert.deepEqual(whatIf(rows(), shipped).totals, { replayed: 4, stillAllowed: 4, stillDenied: 0, reasonsChanged: 0, newlyDenied: 0, newlyAllowed: 0, unreadable: 0 });
  const writes90 = draftOf((y) => y.replace('maxSec: 7200', 'maxSec: 5400'));
  const deniedRow = stored(longWrite, writes90, 's4');
  assert.deepEqual(deniedRow.reason_codes, ['policy.lifetime.write']);
  assert.deepEqual(whatIf([deniedRow], writes90).totals.stillDenied, 1);
  const r = whatIf([deniedRow], draftOf((y) => y.replace('max: 5', 'max: 1')));
  assert.deepEqual([r.totals.stillDenied, r.totals.reasonsChanged, r.totals.newlyDenied], [1, 1, 0]);
});

test('unreadable inputs are counted, not replayed; hostile inputs are denied, not thrown', () => {
  const bad = (input: string, span: string): StoredDecision => ({ ...stored(deep, shipped, span), input });
  const r = whatIf([bad('not json', 'a'), bad('[]', 'b'), bad('{"action":1,"chain":{}}', 'c'), bad('{"action":{"agent":"x","scopes":[],"atMs":0},"chain":{"depth":"many","links":[]}}', 'd')], shipped);
  assert.equal(r.totals.unreadable, 3);
  assert.equal(r.totals.replayed, 1);
  assert.deepEqual(r.newlyDenied.map((c) => c.rule), ['input.invalid']);
});

test('time bounds: ISO, epoch ms, now, durations ago; anything else is refused', () => {
  const now = Date.parse('2026-11-29T12:00:00Z');
  assert.equal(parseTimeBound('--from', '2026-11-29T10:00:00Z', now), Date.parse('2026-11-29T10:00:00Z'));
  assert.equal(parseTimeBound('--from', '1790000000000', now), 1_790_000_000_000);
  assert.equal(parseTimeBound('--to', 'now', now), now);
  assert.equal(parseTimeBound('--from', '24h', now), now - 86_400_000);
  assert.equal(parseTimeBound('--from', '90m', now), now - 5_400_000);
  for (const t of ['yesterday', '2026', '12:00', '', '1e3', "'; DROP TABLE x"]) assert.throws(() => parseTimeBound('--from', t, now), WhatIfRangeError, t);
});

test('an API request is checked: the draft compiled with its problems by line, times and counts bounded', () => {
  const now = Date.parse('2026-11-29T12:00:00Z');
  const ok = parseWhatIfRequest({ policy: DEFAULT, from: '24h', to: now, limit: 10, examples: 2 }, now);
  assert.equal(ok.draft.data.revision, shipped.data.revision);
  assert.deepEqual(ok.range, { fromMs: now - 86_400_000, toMs: now, limit: 10 });
  assert.deepEqual(ok.options, { examplesPerRule: 2 });
  assert.deepEqual(parseWhatIfRequest({ policy: DEFAULT }).range, {});

  const refused = (body: unknown, pattern: RegExp) => assert.throws(() => parseWhatIfRequest(body, now), (e: unknown) => e instanceof WhatIfRequestError && pattern.test(e.message), JSON.stringify(body)?.slice(0, 80));
  refused(null, /JSON object/);
  refused([DEFAULT], /JSON object/);
  refused({}, /"policy" must be/);
  refused({ policy: 42 }, /"policy" must be/);
  refused({ policy: DEFAULT, extra: 1 }, /unknown field "extra"/);
  refused({ policy: DEFAULT, from: 'yesterday' }, /not a time/);
  refused({ policy: DEFAULT, from: 1e20 }, /outside the times/);
  refused({ policy: DEFAULT, from: { $gt: 0 } }, /"from" must be a time/);
  refused({ policy: DEFAULT, from: now, to: now - 1 }, /before/);
  refused({ policy: DEFAULT, limit: 0 }, /"limit" must be an integer/);
  refused({ policy: DEFAULT, examples: 1.5 }, /"examples" must be an integer/);
  try {
    parseWhatIfRequest({ policy: DEFAULT.replace('max: 5', 'max: five') });
    assert.fail('a bad draft must be refused');
  } catch (e) {
    assert.ok(e instanceof WhatIfRequestError);
    assert.deepEqual(e.problems.map((p) => `${p.file}:${p.line}: ${p.field}: ${p.message}`), ['draft:17: /depth/0/max: must be integer']);
  }
});
