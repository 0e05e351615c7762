/** The delivery and response sections inside the detection file: parsed by their owners, problems located in the file. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DetectionConfigError, parseDetectionConfig } from '../../src/detect/config.js';

test('the detection file carries the delivery and response sections', () => {
  const c = parseDetectionConfig(
    ['delivery:', '  destinations:', '    - { name: soc, url: "https://hooks.example/am" }', 'response:', '  enabled: true', '  dry_run: true'].join('\n'),
    'detection.yaml',
  );
  assert.equal(c.sections.delivery.destinations[0]?.name, 'soc');
  assert.equal(c.sections.response.enabled, true);
  assert.equal(c.sections.response.dryRun, true);
});

test('a problem in the delivery section names the file, line and field', () => {
  assert.throws(
    () => parseDetectionConfig(['delivery:', '  destinations:', '    - name: soc', '      url: "ftp://x"', 'response:', '  min_severity: severe'].join('\n'), 'detection.yaml'),
    (err: DetectionConfigError) => {
      assert.ok(err.problems.some((p) => /^detection\.yaml:4:\d+: \/delivery\/destinations\/0\/url: must be an http/.test(p)), err.problems.join('\n'));
      assert.ok(err.problems.some((p) => /^detection\.yaml:6:\d+: \/response\/min_severity: must be one of/.test(p)), err.problems.join('\n'));
      return true;
    },
  );
});
