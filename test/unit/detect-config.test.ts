/** The detection configuration: defaults, `off`, the file's problems with file, line, column and field, and the detectors it builds. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DetectionConfigError, loadDetectionConfig, parseDetectionConfig } from '../../src/detect/config.js';
import { buildDetectors } from '../../src/detect/registry.js';
import { loadConfig } from '../../src/config/config.js';

const names = (c: ReturnType<typeof loadDetectionConfig>) => {
  const s = buildDetectors(c);
  return { streaming: s.streaming.map((d) => d.name), windowed: s.windowed.map((d) => d.name) };
};

test('unset means the defaults with detection on; off builds no detector', () => {
  const on = loadDetectionConfig(undefined);
  assert.equal(on.enabled, true);
  assert.deepEqual(names(on), { streaming: ['integrity.not_delegatee', 'policy.violation', 'paths', 'depth'], windowed: ['integrity.verification_burst', 'integrity.link_reuse', 'scope', 'cross_agent'] });
  const off = loadDetectionConfig('off');
  assert.equal(off.enabled, false);
  assert.deepEqual(names(off), { streaming: [], windowed: [] });
});

test('a file turns sections and detectors off and sets thresholds', () => {
  const c = parseDetectionConfig('integrity:\n  burst:\n    min_failures: 3\n  link_reuse:\n    enabled: false\npolicy:\n  enabled: false\nscope:\n  enabled: false\ncross_agent:\n  enabled: false\n');
  assert.equal(c.sections.integrity.burst.minFailures, 3);
  assert.deepEqual(names(c), { streaming: ['integrity.not_delegatee', 'paths', 'depth'], windowed: ['integrity.verification_burst'] });
  assert.equal(parseDetectionConfig('enabled: false\n').enabled, false);
  assert.equal(parseDetectionConfig('').enabled, true, 'an empty file: the defaults');
});

test('every problem names the file, line, column and field', () => {
  const text = 'integrity:\n  burst:\n    window_sec: 5\n    severity: urgent\npolicy:\n  colour: red\nunknown_section: {}\n';
  const err = (() => { try { parseDetectionConfig(text, 'detect.yaml'); } catch (e) { return e; } return undefined; })();
  assert.ok(err instanceof DetectionConfigError);
  assert.deepEqual([...err.problems].sort(), [
    'detect.yaml:7:1: /unknown_section: unknown field "unknown_section"',
    'detect.yaml:3:17: /integrity/burst/window_sec: must be >= 10',
    'detect.yaml:4:15: /integrity/burst/severity: must be one of info, low, medium, high, critical',
    'detect.yaml:6:3: /policy/colour: unknown field "colour"',
  ].sort());
});

test('YAML that does not parse, and a file that cannot be read, are problems too', () => {
  assert.throws(() => parseDetectionConfig('integrity: [\n', 'd.yaml'), (e: unknown) => e instanceof DetectionConfigError && /^d\.yaml:\d+:\d+: /.test(e.problems[0]!));
  assert.throws(() => loadDetectionConfig('/nonexistent/detect.yaml'), /cannot read/);
});

test('CHAINSIGHT_DETECTION in the process configuration: its problems join the others', () => {
  const dir = mkdtempSync(join(tmpdir(), 'detect-config-'));
  try {
    const file = join(dir, 'detect.yaml');
    writeFileSync(file, 'policy:\n  severity: severe\n');
    assert.throws(() => loadConfig({ CHAINSIGHT_DETECTION: file }, { data: dir }), /CHAINSIGHT_DETECTION: .*detect\.yaml:2:13: \/policy\/severity: must be one of/);
    assert.equal(loadConfig({ CHAINSIGHT_DETECTION: 'off' }, { data: dir }).detection?.enabled, false);
    assert.equal(loadConfig({}, { data: dir }).detection?.enabled, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the shipped example file is valid and says what the defaults are', async () => {
  const { readFileSync } = await import('node:fs');
  const file = new URL('../../schemas/examples/detection.yaml', import.meta.url);
  const example = parseDetectionConfig(readFileSync(file, 'utf8'), 'detection.yaml');
  const defaults = loadDetectionConfig(undefined);
  assert.deepEqual(example.sections.integrity, defaults.sections.integrity);
  assert.equal(example.sections.policy.severity, defaults.sections.policy.severity);
  assert.equal(example.sections.policy.rules.get('depth.global'), 'high');
  assert.deepEqual(example.sections.paths, defaults.sections.paths);
  assert.deepEqual(example.sections.depth, defaults.sections.depth);
});
