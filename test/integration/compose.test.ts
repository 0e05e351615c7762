/** The full-stack compose file parses with Debian's docker-compose and wires what the README promises. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const hasCompose = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;

test('docker-compose config validates the stack', { skip: hasCompose ? false : 'docker-compose is not installed (.ci/run installs it)' }, () => {
  const quiet = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], { encoding: 'utf8' });
  assert.equal(quiet.status, 0, quiet.stderr);
  const services = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '--services'], { encoding: 'utf8' });
  assert.equal(services.status, 0, services.stderr);
  assert.deepEqual(services.stdout.trim().split('\n').sort(), ['api', 'clickhouse', 'collector', 'grafana', 'kafka', 'processor']);
  const full = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], { encoding: 'utf8' }).stdout;
  assert.match(full, /otlp_spans/);
  assert.match(full, /CLICKHOUSE_URL: http:\/\/clickhouse:8123/);
  assert.match(full, /gateway\.yaml/);
});
