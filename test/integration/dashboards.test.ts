/**
 * Every Grafana dashboard query runs against chdb, on the schema and the
 * demo's data, expanded as Grafana and the ClickHouse plugin would expand it,
 * and returns what its panel needs. The demo runs in this process (as `npm run
 * demo` does); two rows are added after it: a re-verdict of a failed action
 * (a newer row for the same span, which every panel must prefer) and an
 * agent whose ID is hostile SQL, which the agent filter must select exactly.
 * The alerts dashboard reads the demo's alerts and what analysts and the
 * dispatcher add to them: the test acknowledges and resolves some through the
 * alert store, adds an alert resolved then triggered again, and fills the
 * outbox and two destinations' deliveries as the dispatcher does.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { ClickHouseClient } from '@clickhouse/client';
import { runDemo } from '../../src/demo/run.js';
import { openClient } from '../../src/store/client.js';
import { AGENTS, BAD_ACTIONS } from '../../src/demo/scenario.js';
import { PLUGIN_VERSION, type QueryContext, type VariableState } from '../support/grafana-macros.js';
import { CLICKHOUSE_PLUGIN, dashboardQueries, type PanelQuery } from '../support/grafana-panels.js';
import { runPanelQuery, type QueryRun } from '../support/grafana-run.js';
import { AlertStore } from '../../src/alert/store.js';
import { OutboxStore } from '../../src/alert/delivery/outbox-store.js';
import { AlertStoreChanges } from '../../src/alert/delivery/store-changes.js';
import type { AlertState } from '../../src/detect/alert.js';
import { alertId } from '../../src/detect/alert.js';
import { nextMs, signal, storeSignals } from '../support/alerts.js';

const DASHBOARDS = 'dashboards';
const HOSTILE_AGENT = "spiffe://evil.example/agent/x') OR 1=1 -- \\' ${agent} $__timeFilter(ts) /*";
const PLANNER = AGENTS.find((a) => a.key === 'planning')!.spiffeId;

const dashboards = readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json')).sort();
const queries = dashboards.flatMap((f) => dashboardQueries(f, JSON.parse(readFileSync(join(DASHBOARDS, f), 'utf8'))));

let dir: string;
let client: ClickHouseClient;
/** The agent variable's options (hex-encoded IDs) and their texts, as its query returned them. */
let agentOptions: Array<{ value: string; text: string }> = [];

function context(agent: VariableState['current']): QueryContext {
  // A minute ahead: the macros work in whole seconds, so rows stored in the current second (the
  // re-verdict is stamped a second later still) would otherwise fall outside a range ending "now".
  const to = new Date(Date.now() + 60_000);
  return {
    from: new Date(to.getTime() - 3 * 3600_000),
    to,
    intervalMs: 60_000, // what Grafana would pick for 3 h on a narrow panel; any value must work
    variables: { agent: { current: agent, options: agentOptions.map((o) => o.value) } },
  };
}

function explain(q: PanelQuery, run: QueryRun): string {
  return `${q.dashboard} ${q.where}: ${run.problems.join('; ')}\n${run.sql ?? q.rawSql}`;
}

async function rows(file: string, title: string, agent: VariableState['current'] = ['$__all']): Promise<unknown[][]> {
  const q = queries.find((x) => x.dashboard === file && x.where.includes(`"${title}"`));
  assert.ok(q, `${file} has a panel "${title}"`);
  const run = await runPanelQuery(client, q, context(agent), false);
  assert.ok(run.ok, explain(q, run));
  return run.result!.data;
}

async function value(file: string, title: string, agent: VariableState['current'] = ['$__all']): Promise<number> {
  return Number((await rows(file, title, agent))[0]![0]);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chainsight-dashboards-'));
  const lines: string[] = [];
  assert.equal(await runDemo({ dataDir: dir, listActions: false, out: (l) => lines.push(l), followUp: false }), true, lines.join('\n'));
  client = openClient({ database: 'chainsight', target: { kind: 'embedded', dataDir: join(dir, 'clickhouse') } });
  // The datasource's default database: dashboards name tables without it.
  await client.command({ query: 'USE chainsight' });
  await client.command({
    query: `INSERT INTO actions SELECT * REPLACE ('verified' AS verdict, [] AS reasons, [] AS reason_details, received_at + INTERVAL 1 SECOND AS received_at)
            FROM (SELECT * FROM actions WHERE has(reasons, 'scope.exceeded') LIMIT 1)`,
  });
  await client.command({
    query: `INSERT INTO actions SELECT * REPLACE ({agent:String} AS agent_id, {agent:String} AS agent_name, 'hostile0000span0' AS span_id)
            FROM (SELECT * FROM actions WHERE agent_id = {planner:String} LIMIT 1)`,
    query_params: { agent: HOSTILE_AGENT, planner: PLANNER },
  });
  const variable = queries.find((q) => q.dashboard === 'chainsight-overview.json' && q.where === 'variable agent')!;
  const run = await runPanelQuery(client, variable, context(['$__all']), true);
  assert.ok(run.ok, explain(variable, run));
  agentOptions = run.result!.data.map((r) => ({ value: String(r[0]), text: String(r[1]) }));
  await seedAlertWork();
});

/** The subject of the alert the test adds, named so no demo alert has it. */
const TEST_EDGE = `${PLANNER} -> spiffe://acme.example/agent/dashboard-test`;
/** Deliveries recorded by the test: [destination, index of the outbox key, outcome]. */
const DELIVERIES = [['soc', 0, 'delivered'], ['soc', 1, 'abandoned'], ['siem', 0, 'delivered']] as const;
let outboxKeys: string[] = [];
/** The demo alerts the test acknowledged and resolved: [kind, subject]. */
let acknowledgedAlert: [string, string];
let resolvedAlert: [string, string];

/** What people and the dispatcher add to the demo's alerts, through the same stores they use. */
async function seedAlertWork(): Promise<void> {
  const store = new AlertStore(client, 'chainsight');
  const demo = (await store.list({ state: 'open' })).items;
  assert.ok(demo.length >= 2, `the demo raises alerts: ${demo.length}`);
  await nextMs();
  await store.acknowledge(demo[0]!.id, 'analyst@acme.example', 'looking');
  await store.resolve(demo[1]!.id, 'analyst@acme.example', 'expected');
  acknowledgedAlert = [demo[0]!.kind, demo[0]!.subject];
  resolvedAlert = [demo[1]!.kind, demo[1]!.subject];
  const now = Date.now();
  // Resolved, then a new trigger: open again.
  const edge = signal({ kind: 'delegation.new_edge', severity: 'low', tenant: 'acme.example', subject: TEST_EDGE, eventKey: 'trace-a/span-a', observedAtMs: now, agents: [PLANNER] });
  await storeSignals(client, 'chainsight', [edge], 'paths');
  await nextMs();
  await store.resolve(alertId(edge), 'analyst@acme.example', 'known');
  await nextMs();
  await storeSignals(client, 'chainsight', [{ ...edge, eventKey: 'trace-b/span-b' }], 'paths');
  const outbox = new OutboxStore(client, 'chainsight');
  outboxKeys = await outbox.enqueue((await new AlertStoreChanges(store, { warn: () => {} }).changesSince('', 10_000)).changes);
  assert.ok(outboxKeys.length >= 3, `${outboxKeys.length} notifications`);
  await outbox.record(DELIVERIES.map(([destination, i, outcome]) => ({ key: outboxKeys[i]!, destination, outcome, attempts: 1, detail: '' })));
}

/** Alerts active in the test's time range in a state, as the alert store folds them. */
async function stored(state: AlertState): Promise<number> {
  const range = context(['$__all']);
  const page = await new AlertStore(client, 'chainsight').list({ state, sinceMs: range.from.getTime(), untilMs: range.to.getTime(), limit: 1000 });
  return page.items.length;
}

after(async () => {
  await client?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('dashboards', () => {
  test('there are dashboards, and every panel and variable has a ClickHouse query', () => {
    assert.ok(dashboards.length >= 4 && dashboards.includes('chainsight-alerts.json'), dashboards.join(', '));
    assert.ok(queries.length >= 25, `${queries.length} queries`);
    for (const f of dashboards) assert.ok(queries.some((q) => q.dashboard === f && q.panelType !== 'variable'), `${f} has panels`);
  });

  test('the agent variable lists every agent, values hex-encoded so no agent ID reaches SQL as text', () => {
    const texts = agentOptions.map((o) => o.text).sort();
    assert.deepEqual(texts, [...AGENTS.map((a) => a.spiffeId), HOSTILE_AGENT].sort());
    for (const o of agentOptions) {
      assert.match(o.value, /^[0-9A-F]+$/);
      assert.equal(Buffer.from(o.value, 'hex').toString('utf8'), o.text);
    }
  });

  for (const q of queries) {
    test(`${q.dashboard} ${q.where}: runs and fits its panel with every agent, and returns rows for All`, async () => {
      const all = await runPanelQuery(client, q, context(['$__all']), true);
      assert.ok(all.ok, explain(q, all));
      if (!q.rawSql.includes('$agent')) return;
      for (const o of agentOptions) {
        const one = await runPanelQuery(client, q, context([o.value]), false);
        assert.ok(one.ok, `agent ${o.text}: ${explain(q, one)}`);
      }
      const two = await runPanelQuery(client, q, context(agentOptions.slice(0, 2).map((o) => o.value)), false);
      assert.ok(two.ok, `two agents: ${explain(q, two)}`);
    });
  }

  test('panels count each span once, by its newest row', async () => {
    // The demo's actions + the hostile agent's; the re-verdict is a second row of an existing span.
    const demoActions = AGENTS.reduce((n, a) => n + a.actions, 0) + BAD_ACTIONS.length;
    assert.equal(await value('chainsight-overview.json', 'Actions'), demoActions + 1);
    assert.equal(await value('chainsight-overview.json', 'Failed verdicts'), BAD_ACTIONS.length - 1);
    // Physical rows depend on whether a background merge has already folded the re-verdict's two
    // rows into one: the panels must say what the table holds at that moment.
    const [physical] = await (await client.query({ query: 'SELECT count() AS rows, uniqExact(trace_id, span_id) AS spans FROM actions', format: 'JSONEachRow' })).json<{ rows: string; spans: string }>();
    assert.equal(Number(physical!.spans), demoActions + 1);
    assert.ok(Number(physical!.rows) === demoActions + 2 || Number(physical!.rows) === demoActions + 1, `${physical!.rows} rows`);
    assert.equal(await value('chainsight-ingest.json', 'Rows written'), Number(physical!.rows));
    assert.equal(await value('chainsight-ingest.json', 'Re-delivered rows'), Number(physical!.rows) - Number(physical!.spans));
    // The filter applies to the newest row: the re-verdicted action is no longer listed as failed.
    const failed = await rows('chainsight-overview.json', 'Recent failed actions');
    assert.equal(failed.length, BAD_ACTIONS.length - 1);
    assert.ok(failed.every((r) => !String(r[10]).includes('scope.exceeded')), JSON.stringify(failed));
  });

  test('selecting an agent filters to exactly that agent, a hostile ID included', async () => {
    const hostile = agentOptions.find((o) => o.text === HOSTILE_AGENT)!;
    assert.equal(await value('chainsight-overview.json', 'Actions', [hostile.value]), 1);
    const cost = agentOptions.find((o) => o.text.includes('cost-analyzer'))!;
    assert.equal(await value('chainsight-overview.json', 'Actions', [cost.value]), 14);
    assert.equal(await value('chainsight-overview.json', 'Failed verdicts', [cost.value]), 2);
    assert.equal(await value('chainsight-overview.json', 'Actions', [cost.value, hostile.value]), 15);
  });

  test('a broken query fails the check: a misspelt column, a wrong macro, a wrong shape', async () => {
    const base = queries.find((q) => q.dashboard === 'chainsight-overview.json' && q.where.includes('"Verdicts over time"'))!;
    const ctx = context(['$__all']);
    const column = await runPanelQuery(client, { ...base, rawSql: base.rawSql.replace('$__timeInterval(ts)', '$__timeInterval(tss)') }, ctx, true);
    assert.equal(column.ok, false);
    assert.match(column.problems.join(), /ClickHouse refused it/);
    const macro = await runPanelQuery(client, { ...base, rawSql: base.rawSql.replace('$__timeFilter(ts)', '$__timeFilter(ts, received_at)') }, ctx, true);
    assert.equal(macro.ok, false);
    assert.match(macro.problems.join(), /timeFilter expected 1 argument/);
    const unordered = await runPanelQuery(client, { ...base, rawSql: base.rawSql.replace('ORDER BY time', 'ORDER BY time DESC') }, ctx, true);
    assert.equal(unordered.ok, false);
    assert.match(unordered.problems.join(), /ascending/);
    const empty = await runPanelQuery(client, { ...base, rawSql: base.rawSql.replace('WHERE $__timeFilter(ts)', 'WHERE 0 AND $__timeFilter(ts)') }, ctx, true);
    assert.equal(empty.ok, false);
    assert.match(empty.problems.join(), /no rows/);
  });
});

describe('alerts dashboard', () => {
  const ALERTS = 'chainsight-alerts.json';

  test('states now are the alert store\'s fold: acknowledged, resolved, and resolved then triggered again', async () => {
    const [states] = await rows(ALERTS, 'Alert states now');
    const [open, acknowledged, resolved] = states!.map(Number);
    assert.deepEqual([open, acknowledged, resolved], [await stored('open'), await stored('acknowledged'), await stored('resolved')]);
    assert.ok(open! >= 2 && acknowledged >= 1 && resolved >= 1, JSON.stringify(states));
    const subjects = await rows(ALERTS, 'Top alert subjects');
    const state = ([kind, subject]: [string, string]) => subjects.find((r) => r[1] === kind && r[2] === subject)?.[3];
    assert.equal(state(acknowledgedAlert), 'acknowledged');
    assert.equal(state(resolvedAlert), 'resolved');
    const edge = subjects.find((r) => r[1] === 'delegation.new_edge' && r[2] === TEST_EDGE)!;
    assert.equal(edge[3], 'open', 'a trigger recorded after the resolution reopens the alert');
    assert.equal(Number(edge[5]), 2, 'both triggers count');
  });

  test('time to acknowledge counts the acknowledged alert', async () => {
    const [[median, p90, acknowledged]] = (await rows(ALERTS, 'Time to acknowledge')) as [[unknown, unknown, unknown]];
    assert.equal(Number(acknowledged), 1);
    assert.ok(Number(median) > 0 && Number(median) === Number(p90), `${median} ${p90}`);
  });

  test('deliveries per destination and the backlog each destination still has', async () => {
    const outcomes = await rows(ALERTS, 'Delivery outcomes per destination');
    assert.deepEqual(outcomes.map((r) => r.map(String)), [['siem', '1', '0', '0'], ['soc', '1', '1', '0']]);
    // The outbox as it stands: the test's notifications, and any the demo's own dispatcher enqueued.
    const [stored] = await (await client.query({ query: 'SELECT uniqExact(idem_key) AS n FROM alert_outbox', format: 'JSONEachRow' })).json<{ n: string }>();
    const notifications = Number(stored!.n);
    assert.ok(notifications >= outboxKeys.length);
    const backlog = await rows(ALERTS, 'Outbox backlog');
    const pending = Object.fromEntries(backlog.map((r) => [r[0], Number(r[1])]));
    assert.deepEqual(pending, { soc: notifications - 2, siem: notifications - 1 });
    assert.ok(backlog.every((r) => Number(r[3]) === notifications));
    assert.equal(await value(ALERTS, 'Notifications pending'), 2 * notifications - 3);
  });

  test('over-provisioned scope shows the demo\'s finding with its facts, scope usage the demo\'s grants and uses', async () => {
    // The demo's finding (scenario.ts): the cost analyzer never uses security:read.
    const cost = AGENTS.find((a) => a.key === 'cost')!.spiffeId;
    const finding = (await rows(ALERTS, 'Over-provisioned scope')).find((r) => r[0] === cost);
    assert.ok(finding, `a finding for ${cost}`);
    const [, severity, , level, share, granted, unused, suggested, days] = finding.map(String);
    assert.ok(['info', 'low', 'medium'].includes(severity!) && level === 'agent' && /^\d+%$/.test(share!), JSON.stringify(finding));
    assert.ok(granted!.split(' ').includes('security:read') && /vulndb:query \(never used\)/.test(unused!) && !suggested!.includes('security:read') && Number(days) > 0, JSON.stringify(finding));
    const usage = await rows(ALERTS, 'Scope usage per delegation edge');
    assert.ok(usage.some((r) => r[0] === PLANNER && String(r[2]).length > 0 && String(r[3]).length > 0), JSON.stringify(usage));
  });

  test('the agent filter keeps the alerts naming the agent', async () => {
    const planner = agentOptions.find((o) => o.text === PLANNER)!;
    const tenants = await rows(ALERTS, 'Top agents in alerts', [planner.value]);
    assert.ok(tenants.some((r) => r[0] === PLANNER));
    const hostile = agentOptions.find((o) => o.text === HOSTILE_AGENT)!;
    assert.deepEqual((await rows(ALERTS, 'Alert states now', [hostile.value]))[0]!.map(Number), [0, 0, 0]);
  });
});

describe('provisioning', () => {
  const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as { services: { grafana: { volumes: string[]; environment: Record<string, string> } } };
  const grafana = compose.services.grafana;
  const mount = (host: string) => grafana.volumes.find((v) => v.startsWith(`${host}:`))?.split(':')[1];

  test('compose mounts the provisioning and the dashboards where the provider reads them', () => {
    const provisioning = mount('./deploy/grafana/provisioning');
    assert.equal(provisioning, '/etc/grafana/provisioning');
    const providers = parse(readFileSync('deploy/grafana/provisioning/dashboards/chainsight.yaml', 'utf8')) as { providers: Array<{ type: string; options: { path: string } }> };
    assert.equal(providers.providers[0]!.type, 'file');
    assert.equal(mount('./dashboards'), providers.providers[0]!.options.path);
    const home = grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!;
    assert.ok(home.startsWith(providers.providers[0]!.options.path + '/') && dashboards.includes(home.split('/').pop()!), home);
    assert.ok(grafana.environment.GF_PLUGINS_PREINSTALL_SYNC!.split(',').includes(`${CLICKHOUSE_PLUGIN}@${PLUGIN_VERSION}`), 'compose installs the plugin version whose macros the test expands');
  });

  test('every dashboard defaults to the provisioned ClickHouse datasource', () => {
    const ds = (parse(readFileSync('deploy/grafana/provisioning/datasources/clickhouse.yaml', 'utf8')) as { datasources: Array<{ uid: string; type: string; jsonData: { defaultDatabase: string } }> }).datasources[0]!;
    assert.equal(ds.type, CLICKHOUSE_PLUGIN);
    assert.equal(ds.jsonData.defaultDatabase, 'chainsight');
    for (const f of dashboards) {
      const d = JSON.parse(readFileSync(join(DASHBOARDS, f), 'utf8')) as { uid: string; templating: { list: Array<{ name: string; type: string; query: string; current: { value: string } }> } };
      assert.equal(`${d.uid}.json`, f, 'file named after the uid, so links and the home path stay stable');
      const v = d.templating.list.find((x) => x.name === 'datasource')!;
      assert.equal(v.type, 'datasource');
      assert.equal(v.query, CLICKHOUSE_PLUGIN);
      assert.equal(v.current.value, ds.uid);
    }
  });
});
