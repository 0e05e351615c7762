/**
 * Loading policy files: a valid file compiles with a content-hash revision;
 * every kind of mistake is refused with the file, line, column and field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPolicyFile, parsePolicy, PolicyLoadError, type PolicyProblem } from '../../src/policy/loader.js';

const shipped = readFileSync(new URL('../../policies/default.yaml', import.meta.url), 'utf8');
const MIN = 'version: "1"\nagentTypes:\n  id: types\n  patterns:\n    - path: /agent/{type}/*\n  types: [planning, execution]\n';

function problems(text: string): PolicyProblem[] {
  try {
    parsePolicy(text, 'p.yaml');
  } catch (e) {
    assert.ok(e instanceof PolicyLoadError, String(e));
    return e.problems;
  }
  assert.fail('the policy was accepted');
}

test('the shipped policy loads; its revision is a content hash that ignores comments and layout', () => {
  const a = parsePolicy(shipped);
  assert.equal(a.data.version, '2026-11-29.1');
  assert.match(a.data.revision, /^[0-9a-f]{64}$/);
  assert.equal(parsePolicy('# a comment\n' + shipped.replaceAll('\n\n', '\n')).data.revision, a.data.revision);
  assert.notEqual(parsePolicy(shipped.replace('max: 5', 'max: 4')).data.revision, a.data.revision);
});

test('a minimal policy needs only version and agentTypes; cross-domain defaults to deny', () => {
  const p = parsePolicy(MIN);
  assert.equal(p.data.crossDomain.id, 'cross-domain.default');
  assert.deepEqual(p.data.crossDomain.allow, []);
  assert.equal(p.data.scopes, null);
});

test('JSON is accepted too (it is YAML)', () => {
  const p = parsePolicy(JSON.stringify({ version: 'j', agentTypes: { id: 't', patterns: [{ path: '/agent/{type}' }], types: ['a'] } }));
  assert.equal(p.data.version, 'j');
});

test('an unknown field names its line, column and pointer', () => {
  const [p, ...rest] = problems(MIN + 'depth:\n  - id: d\n    max: 3\n    maxx: 4\n');
  assert.deepEqual(rest, []);
  assert.deepEqual({ ...p }, { file: 'p.yaml', line: 10, column: 5, field: '/depth/0/maxx', message: 'unknown field "maxx"' });
});

test('a wrong type and an out-of-range value are both reported, each at its line', () => {
  const ps = problems(MIN + 'depth:\n  - id: d\n    max: "5"\n  - id: e\n    max: 0\n');
  assert.deepEqual(ps.map((p) => [p.line, p.field]), [[9, '/depth/0/max'], [11, '/depth/1/max']]);
  assert.match(ps[0]!.message, /integer/);
});

test('a missing required field names its parent', () => {
  const [p] = problems('version: "1"\nagentTypes:\n  id: types\n  types: [a]\n');
  assert.equal(p!.field, '/agentTypes/patterns');
  assert.equal(p!.line, 3);
  assert.match(p!.message, /required field "patterns"/);
});

test('bad rule ids, scopes and selectors get readable messages', () => {
  const ps = problems(MIN + 'approval:\n  - id: Input.X\n    scopes: ["pii:*:x*"]\nlifetime:\n  - id: input.x\n    maxSec: 10\n');
  assert.deepEqual(ps.map((p) => p.field).sort(), ['/approval/0/id', '/approval/0/scopes/0', '/lifetime/0/id']);
  assert.ok(ps.some((p) => /rule id/.test(p.message)));
  assert.ok(ps.some((p) => /scope selector/.test(p.message)));
});

test('cross-field rules: duplicate ids, unknown types, reserved human, patterns without one {type}', () => {
  const ps = problems(
    MIN.replace('[planning, execution]', '[planning, execution, human]').replace('/agent/{type}/*', '/agent/*') +
      'depth:\n  - id: types\n    max: 3\n    rootAgentType: ghost\ndelegation:\n  - id: t\n    to: [execution]\n    from: [human, planning]\n',
  );
  const by = Object.fromEntries(ps.map((p) => [p.field, p]));
  assert.match(by['/agentTypes/types']!.message, /reserved/);
  assert.match(by['/agentTypes/patterns/0/path']!.message, /exactly one \{type\}/);
  assert.match(by['/depth/0/id']!.message, /already used at \/agentTypes/);
  assert.equal(by['/depth/0/id']!.line, 8);
  assert.match(by['/depth/0/rootAgentType']!.message, /not one of agentTypes.types/);
  assert.equal(Object.keys(by).length, 4, JSON.stringify(ps)); // `human` in `from` is fine
});

test('YAML errors: duplicate keys, bad syntax, alias bombs', () => {
  assert.equal(problems('version: a\nversion: b\n')[0]!.line, 2);
  assert.equal(problems(MIN + 'depth: [\n')[0]!.file, 'p.yaml');
  const bomb = 'a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n';
  assert.ok(problems(bomb).length > 0);
});

test('a file that cannot be read names the path', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'policy-'));
  try {
    await assert.rejects(loadPolicyFile(join(dir, 'none.yaml')), (e: unknown) => e instanceof PolicyLoadError && e.problems[0]!.file.endsWith('none.yaml') && /cannot read/.test(e.message));
    await writeFile(join(dir, 'p.yaml'), MIN);
    assert.equal((await loadPolicyFile(join(dir, 'p.yaml'))).data.version, '1');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
