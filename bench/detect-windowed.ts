/**
 * The windowed detectors at scale: N stored actions (500 per task, 200 agents,
 * 2 delegation edges per task, 10 scopes, 1,000 resources) generated inside
 * the engine so migration 012's views see them as they would see the write
 * path's inserts. Side by side in this run:
 *  - the over-provisioned-scope evaluation from scope_usage (what the detector
 *    runs) against the same per-edge aggregation over the raw actions and
 *    delegations (what it would cost without the views);
 *  - one cross-agent evaluation (three rules over the recent windows);
 *  - a write-path insert (10,000 action rows, JSONEachRow) with the views ÷
 *    without them.
 * Size from BENCH_DETECT_ACTIONS (default 1,000,000).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { ClickHouseClient } from '@clickhouse/client';
import { openClient, type StoreConfig } from '../src/store/client.js';
import { DDL_DIR, migrate } from '../src/store/migrate.js';
import { loadCatalog } from '../src/store/migrations/catalog.js';
import { createScopeDetector } from '../src/detect/scope/detector.js';
import { parseScopeConfig } from '../src/detect/scope/config.js';
import { createCrossAgentDetector } from '../src/detect/cross-agent/detector.js';
import { CROSS_AGENT_DEFAULTS } from '../src/detect/cross-agent/config.js';
import type { DetectorContext } from '../src/detect/detector.js';
import type { ActionRow } from '../src/correlate/rows.js';
import { median, percentile, report } from './stats.js';

const N = Number(process.env.BENCH_DETECT_ACTIONS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_DETECT_RUNS ?? 15);
const PER_TASK = 500;
const DAY = 86_400_000;
const dataDir = await mkdtemp(join(tmpdir(), 'chainsight-bench-detect-'));
const nowMs = Date.now();
const SCOPES = "['ec2:DescribeInstances','s3:ListBuckets','s3:GetObject','iam:PassRole','ce:GetCostAndUsage','vulndb:query','config:GetRule','compute.instances.list','confluence:CreatePage','email:Send']";

/** Tasks spread over 120 days up to now; agent a<k> of 200 acts for planner p<k % 10>, human h<k % 50>; uses 2 of the 5 scopes its edge grants. */
function actions(db: string, start: number, count: number): string {
  const tasks = Math.ceil(N / PER_TASK);
  const spacing = Math.floor((120 * DAY) / tasks);
  return `
    INSERT INTO ${db}.actions (task_id, ts, end_ts, trace_id, span_id, name, operation, agent_id, agent_name, root_human,
                               root_issued_at, chain_depth, chain_path, chain_hash, scopes_granted, scopes_used, resource, verdict, received_at)
    SELECT concat('task-', toString(t)), fromUnixTimestamp64Milli(toInt64(t0 + i * 100)), fromUnixTimestamp64Milli(toInt64(t0 + i * 100 + 40)),
           lower(hex(MD5(toString(t)))), lower(hex(toFixedString(substring(MD5(toString(n)), 1, 8), 8))), 'execute_tool', 'execute_tool',
           agent, 'a', human, fromUnixTimestamp64Milli(toInt64(t0)), 2, [human, planner, agent], concat('chain-', toString(t)),
           arraySlice(${SCOPES}, 1 + k % 6, 5), [${SCOPES}[1 + k % 6 + i % 2]],
           concat('arn:aws:s3:::bucket-', toString((t * 13 + i) % 1000)), 'verified', fromUnixTimestamp64Milli(toInt64(t0 + i * 100 + 50))
    FROM (
      SELECT number AS n, intDiv(number, ${PER_TASK}) AS t, number % ${PER_TASK} AS i, t % 200 AS k,
             ${nowMs} - (${tasks} - t) * ${spacing} AS t0,
             concat('spiffe://td', toString(k % 4), '.example/agent/a', toString(k), '/i-1') AS agent,
             concat('spiffe://td', toString(k % 4), '.example/agent/p', toString(k % 10), '/i-1') AS planner,
             concat('h', toString(k % 50), '@co.example') AS human
      FROM numbers(${start}, ${count})
    )`;
}

function delegations(db: string): string {
  const tasks = Math.ceil(N / PER_TASK);
  const spacing = Math.floor((120 * DAY) / tasks);
  return `
    INSERT INTO ${db}.delegations (link_hash, jti, task_id, delegator, delegatee, delegator_kind, scopes, issued_at, not_before, expires_at, depth, trust_domain, valid, first_seen)
    SELECT concat('l-', toString(t), '-', toString(e)), concat('j-', toString(t), '-', toString(e)), concat('task-', toString(t)),
           if(e = 0, human, planner), if(e = 0, planner, agent), if(e = 0, 'human', 'agent'),
           if(e = 0, ${SCOPES}, arraySlice(${SCOPES}, 1 + k % 6, 5)),
           fromUnixTimestamp64Milli(toInt64(t0)), fromUnixTimestamp64Milli(toInt64(t0)), fromUnixTimestamp64Milli(toInt64(t0 + 3600000)),
           e + 1, concat('td', toString(k % 4), '.example'), true, fromUnixTimestamp64Milli(toInt64(t0))
    FROM (
      SELECT intDiv(number, 2) AS t, number % 2 AS e, t % 200 AS k, ${nowMs} - (${tasks} - t) * ${spacing} AS t0,
             concat('spiffe://td', toString(k % 4), '.example/agent/a', toString(k), '/i-1') AS agent,
             concat('spiffe://td', toString(k % 4), '.example/agent/p', toString(k % 10), '/i-1') AS planner,
             concat('h', toString(k % 50), '@co.example') AS human
      FROM numbers(0, ${tasks * 2})
    )`;
}

/** The per-edge aggregation the detector reads, computed from the raw tables (no views). */
async function rawEdgeScopes(client: ClickHouseClient, db: string, since: number): Promise<number> {
  const rs = await client.query({
    query: `
      SELECT delegator, delegatee, scope, min(fg) AS first_granted, max(lg) AS last_granted, max(lu) AS last_used FROM (
        SELECT delegator, delegatee, scope, toNullable(issued_at) AS fg, toNullable(issued_at) AS lg, CAST(NULL, 'Nullable(DateTime64(3))') AS lu
        FROM ${db}.delegations ARRAY JOIN scopes AS scope WHERE valid
        UNION ALL
        SELECT edge.1 AS delegator, edge.2 AS delegatee, scope, NULL, NULL, toNullable(toDateTime64(ts, 3))
        FROM ${db}.actions ARRAY JOIN scopes_used AS scope ARRAY JOIN arrayZip(arrayPopBack(chain_path), arrayPopFront(chain_path)) AS edge
        WHERE verdict = 'verified'
      )
      GROUP BY delegatee, delegator, scope
      HAVING last_granted >= fromUnixTimestamp64Milli({since:Int64}) OR last_used IS NOT NULL`,
    query_params: { since },
    format: 'JSONEachRow',
  });
  return (await rs.json()).length;
}

async function timed(runs: number, fn: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  await fn();
  const xs: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    await fn();
    xs.push(performance.now() - t);
  }
  xs.sort((a, b) => a - b);
  return { p50: median(xs), p99: percentile(xs, 99) };
}

/** A write-path batch: 10,000 action rows as the processor sends them (JSONEachRow through the client). */
function writeBatch(round: number): ActionRow[] {
  return Array.from({ length: 10_000 }, (_, i) => {
    const agent = `spiffe://td${i % 4}.example/agent/a${i % 200}/i-1`;
    const atMs = nowMs - round * 10_000 - i;
    return {
      task_id: `w-${round}-${i % 20}`, ts: `${atMs}000000`, end_ts: `${atMs + 5}000000`, trace_id: `${round}`.padStart(32, '0'), span_id: `${i}`.padStart(16, '0'),
      parent_span_id: '', name: 'execute_tool', kind: 1, status_code: 0, service_name: 'a', operation: 'execute_tool', agent_id: agent, agent_name: 'a', peer_id: '',
      tool_name: 't', root_human: `h${i % 50}@co.example`, root_issued_at: atMs, purpose: '', delegator: '', chain_depth: 2,
      chain_path: [`h${i % 50}@co.example`, `spiffe://td${i % 4}.example/agent/p${i % 10}/i-1`, agent], chain_hash: `c-${round}-${i % 20}`, chain_evidence: 'signed-links',
      scopes_granted: ['s0', 's1', 's2', 's3', 's4'], scopes_used: [`s${i % 5}`], resource: `r-${i % 1000}`, verdict: 'verified', reasons: [], reason_details: [], attributes: {}, received_at: atMs,
    };
  });
}

/** Write-path batches into a store with or without migration 012, alternating which goes first, 8 rounds; medians. */
async function insertCosts(): Promise<{ plain: number; views: number }> {
  const catalog = await loadCatalog(DDL_DIR);
  const open = async (withViews: boolean) => {
    const db = `bench_detect_ins_${withViews ? 'views' : 'plain'}`;
    const client = openClient({ database: db, target: { kind: 'embedded', dataDir } });
    await migrate(client, db, 'single', withViews ? catalog : { ...catalog, migrations: catalog.migrations.filter((m) => m.version !== 12) });
    return { db, client };
  };
  const stores = { plain: await open(false), views: await open(true) };
  const ms: { plain: number[]; views: number[] } = { plain: [], views: [] };
  for (let r = 0; r < 8; r++) {
    const rows = writeBatch(r);
    for (const k of (r % 2 === 0 ? ['plain', 'views'] : ['views', 'plain']) as Array<'plain' | 'views'>) {
      const t = performance.now();
      await stores[k].client.insert({ table: `${stores[k].db}.actions`, values: rows, format: 'JSONEachRow' });
      ms[k].push(performance.now() - t);
    }
  }
  await Promise.all([stores.plain.client.close(), stores.views.client.close()]);
  return { plain: median(ms.plain), views: median(ms.views) };
}

const config: StoreConfig = { database: 'bench_detect', target: { kind: 'embedded', dataDir } };
const client = openClient(config);
await migrate(client, config.database);
for (let s = 0; s < N; s += 1_000_000) await client.command({ query: actions(config.database, s, Math.min(1_000_000, N - s)) });
await client.command({ query: delegations(config.database) });
const ctx: DetectorContext = { client, database: config.database, logger: pino({ level: 'silent' }) };
const scopeCfg = parseScopeConfig({ window_sec: 90 * 86_400 }, '/scope', []);
const scope = createScopeDetector(scopeCfg);
let findings = 0;
const withViews = await timed(RUNS, async () => { findings = (await scope.evaluate(ctx, nowMs)).signals.length; });
let edges = 0;
const raw = await timed(Math.max(3, Math.floor(RUNS / 3)), async () => { edges = await rawEdgeScopes(client, config.database, nowMs - scopeCfg.currentMs - scopeCfg.windowMs); });
const cross = createCrossAgentDetector(CROSS_AGENT_DEFAULTS);
const crossLat = await timed(RUNS, () => cross.evaluate(ctx, nowMs));
const usageRows = Number((await (await client.query({ query: `SELECT count() AS n FROM ${config.database}.scope_usage`, format: 'JSONEachRow' })).json<{ n: string }>())[0]!.n);
await client.close();
const inserts = await insertCosts();
await rm(dataDir, { recursive: true, force: true });

report({
  stored_actions: N,
  scope_usage_rows: usageRows,
  scope_edges_scopes: edges,
  scope_findings: findings,
  scope_eval_p50_ms: withViews.p50,
  scope_eval_p99_ms: withViews.p99,
  scope_raw_p50_ms: raw.p50,
  scope_raw_over_views: raw.p50 / withViews.p50,
  cross_agent_eval_p50_ms: crossLat.p50,
  cross_agent_eval_p99_ms: crossLat.p99,
  insert_rows: 10_000,
  insert_with_views_over_plain: inserts.views / inserts.plain,
});
