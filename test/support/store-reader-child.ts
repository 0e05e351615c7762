/**
 * Run as a child process by readStoreInChild():
 *   node --import tsx test/support/store-reader-child.ts <dataDir> <database> <taskId>...
 * Opens the embedded store in <dataDir>/clickhouse (as `chainsight consume`
 * lays it out), reads each task through Queries.taskActions, and prints one
 * JSON document on stdout.
 */
import { resolve } from 'node:path';
import { openClient } from '../../src/store/client.js';
import { Queries } from '../../src/store/queries.js';

const [dataDir, database, ...taskIds] = process.argv.slice(2);
if (!dataDir || !database) {
  console.error('usage: store-reader-child.ts <dataDir> <database> <taskId>...');
  process.exit(2);
}

const client = openClient({ database, target: { kind: 'embedded', dataDir: resolve(dataDir, 'clickhouse') } });
try {
  const queries = new Queries(client, database);
  const actions = [];
  for (const task of taskIds) {
    for (const a of await queries.taskActions(task)) actions.push({ trace_id: a.trace_id, span_id: a.span_id, task_id: task, verdict: a.verdict });
  }
  const rs = await client.query({ query: `SELECT count() AS n FROM ${database}.actions`, format: 'JSONEachRow' });
  const [raw] = await rs.json<{ n: string }>();
  process.stdout.write(JSON.stringify({ actions, rawRows: Number(raw?.n ?? 0), countActions: await queries.countActions() }));
} finally {
  await client.close();
}
