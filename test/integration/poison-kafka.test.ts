/**
 * Poison isolation on the Kafka path, against a real broker and chdb: hostile
 * spans inside messages beside valid traffic. Repaired spans are stored
 * flagged; rows the store still refuses go to the dead-letter topic with the
 * error and their source offset while the rest of their message is stored;
 * no partition stalls (every offset is committed, no retry loop).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DLQ_HEADER, headerText } from '../../src/ingest/kafka-message.js';
import { RAW_VALUE_KEYS } from '../../src/ingest/otlp/mapping.js';
import { createLogger } from '../../src/runtime/logger.js';
import { highWatermarks, kafkaBrokers, otlpJsonExport, otlpProtoExport, produce, readTopic, releaseKafka, uniqueTopic, waitFor } from '../support/kafka.js';
import { makeTrustDomain, type TestDomain } from '../support/keys.js';
import { allCommitted, startProcessorGroup, sumMetric, type ProcessorGroup } from '../support/processor-group.js';
import { hostileCases, jsonBody, protobufBody, refusingConstraint, storedRows, type HostileCase } from '../support/hostile.js';

const PARTITIONS = 4;
let brokers: string[] = [];
let skipReason: string | undefined;
let domain: TestDomain;
let dataDir: string;
let group: ProcessorGroup | undefined;

before(async () => {
  const found = await kafkaBrokers();
  if (typeof found === 'string') skipReason = found;
  else brokers = found;
  domain = await makeTrustDomain();
  dataDir = mkdtempSync(join(tmpdir(), 'chainsight-poison-kafka-'));
});

after(async () => {
  await group?.stop();
  await domain?.cleanup();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  await releaseKafka();
});

test('hostile spans among valid messages: valid spans stored, refused rows dead-lettered with their offset, no partition stalls', async (t) => {
  if (skipReason) return t.skip(skipReason);
  const g = (group = await startProcessorGroup({ brokers, dataDir, trustDir: domain.dir, logger: createLogger('silent'), partitions: PARTITIONS, members: 2, topicPrefix: 'poison' }));
  await g.members[0]!.pipeline.writerClient.command({ query: refusingConstraint(g.config.store.database) });
  const validTask = uniqueTopic('valid');
  const hostileTask = uniqueTopic('hostile');
  const topic = g.config.kafka.topic;

  const valid = (from: number, n: number) =>
    Array.from({ length: n }, (_, i) => {
      const m = from + i;
      return { partition: m % PARTITIONS, value: (m % 2 ? otlpJsonExport : otlpProtoExport)(m, 5, validTask).body };
    });
  await produce(brokers, topic, valid(1, 40));

  // Hostile messages, one case each, round-robin over the partitions; their offsets are known from the watermarks.
  const hw = await highWatermarks(brokers, topic);
  const next = new Map([...hw]);
  const hostile: Array<{ c: HostileCase; partition: number; offset: number; encoding: string }> = [];
  const messages: { partition: number; value: Buffer }[] = [];
  let k = 0;
  for (const [n, encoding] of [[1, 'json'], [2, 'protobuf']] as const) {
    for (const c of hostileCases(hostileTask, n)) {
      if (c.jsonOnly && encoding === 'protobuf') continue;
      const partition = k++ % PARTITIONS;
      const offset = next.get(partition) ?? 0;
      next.set(partition, offset + 1);
      hostile.push({ c, partition, offset, encoding });
      // Each hostile span shares its message with valid spans: only the hostile row may be set apart.
      const neighbour = hostileCases(hostileTask, 100 + k).find((x) => x.name === 'time 0')!;
      const spans = [neighbour.span, c.span];
      messages.push({ partition, value: encoding === 'json' ? jsonBody(spans) : protobufBody(spans) });
      hostile.push({ c: neighbour, partition, offset, encoding });
    }
  }
  await produce(brokers, topic, messages);
  await produce(brokers, topic, valid(41, 40));

  await waitFor('every partition committed to its high watermark', () => allCommitted(g), 60_000);

  const stored = await storedRows(g.members[0]!.pipeline.readerClient, g.config.store.database, validTask);
  assert.equal(stored.size, 80 * 5, 'every valid span stored');
  const hostileRows = await storedRows(g.members[0]!.pipeline.readerClient, g.config.store.database, hostileTask);
  const refused = hostile.filter((h) => h.c.expect === 'refused');
  for (const { c, encoding } of hostile) {
    const row = hostileRows.get(String(c.span.spanId));
    const what = `${c.name} (${encoding})`;
    if (c.expect === 'refused') assert.equal(row, undefined, what);
    else {
      assert.ok(row, `${what}: stored`);
      if (c.expect === 'flagged') {
        assert.ok(row.reasons.includes('span.time_out_of_range'), `${what}: ${row.reasons.join(',')}`);
        assert.ok(row.attributes[RAW_VALUE_KEYS.startTime] ?? row.attributes[RAW_VALUE_KEYS.endTime], `${what}: raw time kept`);
      } else assert.ok(!row.reasons.includes('span.time_out_of_range'), what);
    }
  }

  const dead = await readTopic(brokers, g.config.kafka.dlqTopic, refused.length);
  assert.equal(dead.length, refused.length);
  for (const h of refused) {
    const m = dead.find((d) => JSON.parse(String(d.value)).span_id === h.c.span.spanId);
    assert.ok(m, `${h.c.name} (${h.encoding}) dead-lettered`);
    assert.equal(headerText(m.headers, DLQ_HEADER.errorCode), 'VIOLATED_CONSTRAINT');
    assert.equal(headerText(m.headers, DLQ_HEADER.table), 'actions');
    assert.equal(headerText(m.headers, DLQ_HEADER.sourceTopic), topic);
    assert.equal(headerText(m.headers, DLQ_HEADER.sourcePartition), String(h.partition));
    assert.equal(headerText(m.headers, DLQ_HEADER.sourceOffset), String(h.offset));
    assert.match(headerText(m.headers, DLQ_HEADER.error) ?? '', /refuse_poison/);
  }
  assert.equal(await sumMetric(g, 'chainsight_quarantined_rows_total', { destination: 'dlq' }), refused.length);
  assert.equal(await sumMetric(g, 'chainsight_kafka_retries_total'), 0, 'no batch was retried');
});
