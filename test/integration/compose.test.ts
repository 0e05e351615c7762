/** The full-stack compose file parses with Debian's docker-compose and wires what the README promises. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const hasCompose = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;
const skip = hasCompose ? false : 'docker-compose is not installed (.ci/run installs it)';

function composeConfig(): string {
  const quiet = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], { encoding: 'utf8' });
  assert.equal(quiet.status, 0, quiet.stderr);
  const full = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], { encoding: 'utf8' });
  assert.equal(full.status, 0, full.stderr);
  return full.stdout;
}

test('docker-compose config validates the stack', { skip }, () => {
  const services = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '--services'], { encoding: 'utf8' });
  assert.equal(services.status, 0, services.stderr);
  assert.deepEqual(services.stdout.trim().split('\n').sort(), [
    'api', 'clickhouse', 'collector', 'collector-queue-init', 'grafana', 'kafka-1', 'kafka-2', 'kafka-3', 'processor',
  ]);
  const full = composeConfig();
  assert.match(full, /otlp_spans/);
  assert.match(full, /CLICKHOUSE_URL: http:\/\/clickhouse:8123/);
  assert.match(full, /gateway\.yaml/);
});

test('three KRaft brokers, topics with 3 replicas and min.insync.replicas 2, the collector queue on a volume', { skip }, () => {
  const full = composeConfig();
  assert.equal(full.match(/KAFKA_CONTROLLER_QUORUM_VOTERS: 1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093/g)?.length, 3, 'every node knows the three voters');
  for (const id of [1, 2, 3]) assert.match(full, new RegExp(`KAFKA_NODE_ID: '?${id}'?`));
  assert.equal(full.match(/^\s+KAFKA_MIN_INSYNC_REPLICAS: '?2'?$/gm)?.length, 3, 'broker default for Kafka-created topics');
  assert.equal(full.match(/CHAINSIGHT_KAFKA_REPLICATION_FACTOR: '?3'?/g)?.length, 2, 'processor and api read it');
  assert.equal(full.match(/CHAINSIGHT_KAFKA_MIN_INSYNC_REPLICAS: '?2'?/g)?.length, 2);
  assert.equal(full.match(/KAFKA_BROKERS: kafka-1:9092,kafka-2:9092,kafka-3:9092/g)?.length, 3, 'processor, api and collector know every broker');
  assert.match(full, /collector-queue:\/var\/lib\/otelcol\/file_storage/);
  assert.match(full, /KAFKA_MESSAGE_MAX_BYTES: '?10485760'?/);
});
