/**
 * Task search at scale: N stored actions (500 per task) generated inside the
 * engine with INSERT … SELECT FROM numbers(), so the views feeding the task
 * summary and the search indexes see them as they would see the write path's
 * inserts. Then, side by side in this run, for each filter and a deep page:
 * the task list through the search indexes (migrations 014 and 016, `index`)
 * against the same indexes with a page's columns read from the summary
 * (`index_wide`, as before 016) and the summary alone (`summary`, as before
 * 014), their runs interleaved so all meet the same background merges; the first task list of all (an aggregate
 * over every stored action, `old`); and the tree query of one task.
 * Sizes come from BENCH_SEARCH_ACTIONS (comma-separated), each in a fresh database.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { openClient, type StoreConfig } from '../src/store/client.js';
import { DDL_DIR, migrate } from '../src/store/migrate.js';
import { loadCatalog } from '../src/store/migrations/catalog.js';
import { Queries, type TaskFilter } from '../src/store/queries.js';
import { buildTaskTree } from '../src/serve/tree.js';
import { median, percentile, report } from './stats.js';

const sizes = (process.env.BENCH_SEARCH_ACTIONS ?? '1000000,10000000').split(',').map(Number);
const PER_TASK = 500;
const NEW_RUNS = Number(process.env.BENCH_SEARCH_RUNS ?? 100);
const OLD_RUNS = Number(process.env.BENCH_SEARCH_OLD_RUNS ?? 5);
const CHUNK = 1_000_000;
const dataDir = await mkdtemp(join(tmpdir(), 'chainsight-bench-search-'));

/**
 * Tasks spread over 30 days up to now, one every 30 d / tasks; each task's
 * actions 100 ms apart, by 5 of 200 agents in 4 trust domains, for one of 50
 * humans. Every 10th task has 10 failed spans on a replayed chain issued three
 * hours before its verified one.
 */
function generate(db: string, start: number, count: number, tasks: number, nowMs: number): string {
  const spacing = Math.floor((30 * 86_400_000) / tasks);
  return `
    INSERT INTO ${db}.actions (task_id, ts, end_ts, trace_id, span_id, name, operation, agent_id, agent_name,
                               root_human, root_issued_at, purpose, chain_depth, chain_hash, verdict, reasons, received_at)
    SELECT concat('task-', toString(t)),
           fromUnixTimestamp64Milli(toInt64(t0 + i * 100)),
           fromUnixTimestamp64Milli(toInt64(t0 + i * 100 + 40)),
           lower(hex(MD5(toString(t)))),
           lower(hex(toFixedString(substring(MD5(toString(n)), 1, 8), 8))),
           'execute_tool', 'execute_tool',
           concat('spiffe://td', toString(t % 4), '.example/agent/a', toString((t * 7 + i % 5) % 200)),
           concat('a', toString((t * 7 + i % 5) % 200)),
           if(bad, 'mallory@co.example', concat('human-', toString(t % 50), '@co.example')),
           fromUnixTimestamp64Milli(toInt64(t0 - if(bad, 3 * 3600000, 60000))),
           'generated task', 2,
           if(bad, 'replayed', concat('chain-', toString(t))),
           if(bad, 'failed', 'verified'),
           if(bad, ['time.expired'], []),
           fromUnixTimestamp64Milli(toInt64(${nowMs}))
    FROM (
      SELECT number AS n, intDiv(number, ${PER_TASK}) AS t, number % ${PER_TASK} AS i,
             ${nowMs} - (${tasks} - t) * ${spacing} AS t0,
             t % 10 = 0 AND i % 50 = 0 AS bad
      FROM numbers(${start}, ${count})
    )`;
}

/** The task list as it was before the summary: every stored action aggregated per request. */
async function previousListTasks(client: ClickHouseClient, db: string, f: TaskFilter): Promise<unknown[]> {
  const where: string[] = [];
  const params: Record<string, unknown> = { limit: f.limit ?? 100 };
  if (f.fromMs !== undefined) { where.push('ts >= fromUnixTimestamp64Milli({from:Int64})'); params.from = f.fromMs; }
  const having: string[] = [];
  if (f.human !== undefined) { having.push('has(humans, {human:String})'); params.human = f.human; }
  if (f.agent !== undefined) { having.push('has(agent_ids, {agent:String})'); params.agent = f.agent; }
  if (f.verdict === 'failed') having.push('failed > 0');
  const rs = await client.query({
    query: `
      SELECT task_id, anyIf(a_purpose, a_purpose != '') AS purpose, anyIf(a_human, a_human != '') AS root_human,
             minIf(a_issued, a_issued > 0) AS requested_at, min(a_ts) AS first_action, max(a_end) AS last_action,
             count() AS actions, uniqExact(a_agent) AS agents, countIf(a_verdict = 'failed') AS failed,
             groupUniqArray(a_human) AS humans, groupUniqArray(a_agent) AS agent_ids
      FROM (
        SELECT task_id, purpose AS a_purpose, root_human AS a_human, root_issued_at AS a_issued, ts AS a_ts,
               end_ts AS a_end, agent_id AS a_agent, verdict AS a_verdict
        FROM ${db}.actions FINAL
        ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
      )
      GROUP BY task_id
      ${having.length ? 'HAVING ' + having.join(' AND ') : ''}
      ORDER BY first_action DESC
      LIMIT {limit:UInt32}`,
    query_params: params,
    format: 'JSONEachRow',
  });
  return rs.json();
}

type Latency = { p50: number; p99: number; rows: number };

/** Runs each function `runs` times, in turn (a, b, a, b…) after one warm-up each, so they share the machine's state. */
async function sideBySide(runs: number, fns: Array<() => Promise<number>>): Promise<Latency[]> {
  const rows = [];
  for (const fn of fns) rows.push(await fn());
  const lat: number[][] = fns.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (const [j, fn] of fns.entries()) {
      const s = performance.now();
      rows[j] = await fn();
      lat[j]!.push(performance.now() - s);
    }
  }
  return lat.map((l, j) => {
    l.sort((a, b) => a - b);
    return { p50: percentile(l, 50), p99: percentile(l, 99), rows: rows[j]! };
  });
}

const timed = async (runs: number, fn: () => Promise<number>): Promise<Latency> => (await sideBySide(runs, [fn]))[0]!;

const result: Record<string, unknown> = { per_task: PER_TASK, new_runs: NEW_RUNS, old_runs: OLD_RUNS };
for (const total of sizes) {
  const db = `bench_search_${total}`;
  const config: StoreConfig = process.env.CLICKHOUSE_URL
    ? { database: db, target: { kind: 'server', url: process.env.CLICKHOUSE_URL } }
    : { database: db, target: { kind: 'embedded', dataDir } };
  const writer = openClient(config);
  const reader = openClient(config);
  await writer.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await migrate(writer, db);
  const tasks = Math.ceil(total / PER_TASK);
  const nowMs = Date.now();
  const g0 = performance.now();
  for (let start = 0; start < total; start += CHUNK) {
    await writer.command({ query: generate(db, start, Math.min(CHUNK, total - start), tasks, nowMs), clickhouse_settings: { max_insert_block_size: '1048576' } });
  }
  const generateSeconds = (performance.now() - g0) / 1000;
  const queries = new Queries(reader, db);
  const wide = new Queries(reader, db, { taskSearch: 'index-wide' });
  const summaryOnly = new Queries(reader, db, { taskSearch: 'summary' });
  const size = async (table: string) => {
    const rs = await reader.query({ query: `SELECT sum(bytes_on_disk) AS b, sum(rows) AS r FROM system.parts WHERE database = {db:String} AND table = {t:String} AND active`, query_params: { db, t: table }, format: 'JSONEachRow' });
    const [row] = await rs.json<{ b: string; r: string }>();
    return { bytes: Number(row?.b ?? 0), rows: Number(row?.r ?? 0) };
  };
  const filters: Record<string, TaskFilter> = {
    none: {},
    human: { human: 'human-7@co.example' },
    agent: { agent: 'spiffe://td1.example/agent/a21' },
    verdict_failed: { verdict: 'failed' },
    verdict_verified: { verdict: 'verified' },
    last_hour: { fromMs: nowMs - 3_600_000 },
  };
  const figures: Record<string, unknown> = {
    stored_actions: total, tasks, generate_seconds: generateSeconds,
    actions_table: await size('actions'), summary_table: await size('task_summary'),
    order_index_table: await size('task_order'), keys_index_table: await size('task_keys'), page_table: await size('task_page'),
  };
  const both = async (f: TaskFilter) => {
    const [index, indexWide, summary] = await sideBySide(NEW_RUNS, [
      async () => (await queries.listTasks(f)).tasks.length,
      async () => (await wide.listTasks(f)).tasks.length,
      async () => (await summaryOnly.listTasks(f)).tasks.length,
    ]);
    return {
      index: index!, index_wide: indexWide!, summary: summary!,
      wide_over_index_p50: indexWide!.p50 / index!.p50, wide_over_index_p99: indexWide!.p99 / index!.p99,
      summary_over_index_p99: summary!.p99 / index!.p99,
    };
  };
  for (const [name, f] of Object.entries(filters)) {
    const old = await timed(OLD_RUNS, async () => (await previousListTasks(reader, db, f)).length);
    figures[name] = { ...await both(f), old };
  }
  // Paging deep: the 20th page of 100, following cursors.
  let cursor: string | undefined;
  for (let p = 0; p < 19 && (p === 0 || cursor); p++) cursor = (await queries.listTasks({ cursor })).nextCursor ?? undefined;
  if (cursor) figures.page_20 = await both({ cursor });
  const target = `task-${Math.floor(tasks / 2)}`;
  figures.tree = await timed(NEW_RUNS, async () => buildTaskTree(target, await queries.taskActions(target)).total);
  result[`at_${total}`] = figures;
  await writer.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await writer.close();
  await reader.close();
}
// What the task list's views cost the write path: the same generated rows into
// actions with and without migrations 004 (summary), 014 and 015 (search indexes) and 016 (page columns),
// side by side, three rounds each.
{
  const rows = Number(process.env.BENCH_SEARCH_INSERT_ROWS ?? 1_000_000);
  const catalog = await loadCatalog(DDL_DIR);
  const rate = async (withSummary: boolean, round: number) => {
    const db = `bench_search_insert_${withSummary ? 'mv' : 'plain'}_${round}`;
    const config: StoreConfig = process.env.CLICKHOUSE_URL
      ? { database: db, target: { kind: 'server', url: process.env.CLICKHOUSE_URL } }
      : { database: db, target: { kind: 'embedded', dataDir } };
    const client = openClient(config);
    await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    await migrate(client, db, 'single', withSummary ? catalog : { ...catalog, migrations: catalog.migrations.filter((m) => ![4, 14, 15, 16].includes(m.version)) });
    const s = performance.now();
    for (let start = 0; start < rows; start += CHUNK) await client.command({ query: generate(db, start, Math.min(CHUNK, rows - start), Math.ceil(rows / PER_TASK), Date.now()) });
    const perSec = rows / ((performance.now() - s) / 1000);
    await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    await client.close();
    return perSec;
  };
  const plain: number[] = [];
  const withMv: number[] = [];
  for (let r = 0; r < 3; r++) {
    plain.push(await rate(false, r));
    withMv.push(await rate(true, r));
  }
  result.insert = { rows, plain_rows_per_sec: plain, with_summary_rows_per_sec: withMv, with_over_plain: median(withMv) / median(plain) };
}
await rm(dataDir, { recursive: true, force: true });
report(result);
