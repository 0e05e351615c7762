/** The Grafana query expander and the panel shape checker that the dashboard test relies on. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MacroError, applyConditionalAll, expandQuery, replaceVariables, stripComments, type QueryContext } from '../support/grafana-macros.js';
import { checkShape, dashboardQueries, type PanelQuery, type QueryResult } from '../support/grafana-panels.js';

const FROM = new Date('2026-11-29T08:00:00.250Z');
const TO = new Date('2026-11-29T11:00:00.750Z');
const ctx = (agent: string | string[] = ['$__all'], extra: Partial<QueryContext> = {}): QueryContext => ({
  from: FROM, to: TO, intervalMs: 60_000, variables: { agent: { current: agent, options: ['A1', 'B2'] } }, ...extra,
});
const fromS = Math.floor(FROM.getTime() / 1000);
const toS = Math.floor(TO.getTime() / 1000);

describe('macro expansion (plugin 4.20.0 semantics)', () => {
  test('time macros: seconds precision, toStartOfInterval with the panel interval', () => {
    assert.equal(expandQuery('WHERE $__timeFilter(ts)', ctx()), `WHERE ts >= toDateTime(${fromS}) AND ts <= toDateTime(${toS})`);
    assert.equal(expandQuery('$__timeFilter_ms(ts)', ctx()), `ts >= fromUnixTimestamp64Milli(${FROM.getTime()}) AND ts <= fromUnixTimestamp64Milli(${TO.getTime()})`);
    assert.equal(expandQuery('$__fromTime - INTERVAL 1 DAY, $__toTime', ctx()), `toDateTime(${fromS}) - INTERVAL 1 DAY, toDateTime(${toS})`);
    assert.equal(expandQuery('$__timeInterval(ts)', ctx()), 'toStartOfInterval(toDateTime(ts), INTERVAL 60 second)');
    assert.equal(expandQuery('$__timeInterval(ts)', ctx(undefined, { intervalMs: 200 })), 'toStartOfInterval(toDateTime(ts), INTERVAL 1 second)');
    assert.equal(expandQuery('count() / $__interval_s', ctx()), 'count() / 60');
    assert.equal(expandQuery('$__interval_ms, $__interval', ctx()), '60000, 1m');
    assert.equal(expandQuery("$__timeGroup(ts, '5m')", ctx()), 'toStartOfInterval(toDateTime(ts), INTERVAL 300 second)');
    assert.equal(expandQuery('$__dateFilter(d)', ctx()), "d >= toDate('2026-11-29') AND d <= toDate('2026-11-29')");
  });

  test('nested macros and commas inside quotes or parentheses', () => {
    assert.equal(expandQuery('$__timeInterval(if(x, ts, $__fromTime))', ctx()), `toStartOfInterval(toDateTime(if(x, ts, toDateTime(${fromS}))), INTERVAL 60 second)`);
    assert.throws(() => expandQuery("$__timeFilter(concat(a, ','), b)", ctx()), /expected 1 argument\(s\), received 2/);
  });

  test('macros in comments are blanked, not expanded; strings keep their text', () => {
    assert.equal(stripComments("a -- $__timeFilter(x)\nb /* c */ 'd -- e'"), "a                    \nb         'd -- e'");
    assert.equal(expandQuery("SELECT 1 -- $__bogus(x)\n/* $__timeFilter(y) */", ctx()).trim(), 'SELECT 1');
  });

  test('$__conditionalAll: 1=1 for All and for an empty selection, the condition otherwise', () => {
    const q = 'WHERE $__conditionalAll(agent IN (${agent:singlequote}), $agent)';
    assert.equal(applyConditionalAll(q, ctx().variables), 'WHERE 1=1');
    assert.equal(applyConditionalAll(q, ctx('').variables), 'WHERE 1=1');
    assert.equal(expandQuery(q, ctx(['A1', 'B2'])), "WHERE agent IN ('A1','B2')");
    assert.equal(expandQuery(q, ctx('A1')), "WHERE agent IN ('A1')");
  });

  test('variable formats as Grafana applies them', () => {
    assert.equal(replaceVariables('$agent', ctx(['a', 'b'])), "'a','b'", 'multi value, no format: the plugin quotes without escaping');
    assert.equal(replaceVariables('$agent', ctx('a')), 'a', 'single value, no format: raw');
    assert.equal(replaceVariables('${agent:singlequote}', ctx(["o'k"])), "'o\\'k'");
    assert.equal(replaceVariables('${agent:sqlstring}', ctx(["o'k"])), "'o''k'");
    assert.equal(replaceVariables('${agent:csv}|[[agent]]', ctx(['a', 'b'])), "a,b|'a','b'");
    assert.equal(replaceVariables('${agent:singlequote}', ctx()), "'A1','B2'", 'All without a custom value: every option');
    assert.equal(replaceVariables('$__from $__to', ctx()), `${FROM.getTime()} ${TO.getTime()}`);
  });

  test('a custom All value is sent unformatted: quoting it in the query is on the author', () => {
    const c: QueryContext = { ...ctx(), variables: { agent: { current: ['$__all'], allValue: '__all__', options: ['A1'] } } };
    assert.equal(replaceVariables("'__all__' IN (${agent:singlequote})", c), "'__all__' IN (__all__)");
  });

  test('what the plugin would send on unexpanded is an error here', () => {
    assert.throws(() => expandQuery('WHERE $__timeFiltr(ts)', ctx()), (e: Error) => e instanceof MacroError && /unexpanded macro \$__timeFiltr/.test(e.message));
    assert.throws(() => expandQuery('WHERE a IN ($agnet)', ctx()), /unexpanded variable \$agnet/);
    assert.throws(() => expandQuery('WHERE $__timeFilter()', ctx()), /expected 1 argument/);
    assert.throws(() => expandQuery('SELECT $__columns(a)', ctx()), /statement macro/);
    assert.throws(() => expandQuery('SELECT $__table', ctx()), /no table name/);
    assert.throws(() => replaceVariables('${agent:percentencode}', ctx('a')), /not supported/);
    // The front end gives up on a malformed $__conditionalAll; the macro then survives to the back end.
    assert.throws(() => expandQuery('WHERE $__conditionalAll(a = 1)', ctx()), /unexpanded macro \$__conditionalAll/);
  });
});

const meta = (...cols: Array<[string, string]>) => cols.map(([name, type]) => ({ name, type }));
const q = (panelType: string, format = 1, columns?: string[]): PanelQuery => ({ dashboard: 'd', where: 'p', rawSql: '', format, panelType, ...(columns ? { columns } : {}) });

describe('panel shapes', () => {
  const series: QueryResult = { meta: meta(['time', 'DateTime'], ['verdict', 'LowCardinality(String)'], ['actions', 'UInt64']), data: [['2026-11-29T08:00:00Z', 'verified', '3'], ['2026-11-29T08:01:00Z', 'failed', '1']] };

  test('time series: one time column, numbers, labels, ascending', () => {
    assert.deepEqual(checkShape(q('timeseries', 0), series, true), { ok: true, problems: [] });
    assert.match(checkShape(q('timeseries', 0), { ...series, data: [...series.data].reverse() }, true).problems.join(), /ascending/);
    assert.match(checkShape(q('timeseries', 0), { meta: meta(['verdict', 'String'], ['n', 'UInt64']), data: [['a', 1]] }, true).problems.join(), /exactly one time column/);
    assert.match(checkShape(q('timeseries', 0), { meta: meta(['time', 'DateTime'], ['v', 'String']), data: [['2026-11-29T08:00:00Z', 'a']] }, true).problems.join(), /numeric/);
    assert.match(checkShape(q('timeseries', 1), series, true).problems.join(), /needs format 0/);
    assert.match(checkShape(q('stat', 0), series, true).problems.join(), /format 0 .* on a stat panel/);
  });

  test('tables must return exactly the columns the panel names, in order', () => {
    const r: QueryResult = { meta: meta(['agent', 'String'], ['actions', 'UInt64']), data: [['a', 1]] };
    assert.equal(checkShape(q('table', 1, ['agent', 'actions']), r, true).ok, true);
    assert.match(checkShape(q('table', 1, ['actions', 'agent']), r, true).problems.join(), /differ/);
    assert.match(checkShape(q('table', 1, ['agent', 'actions', 'failed']), r, true).problems.join(), /differ/);
  });

  test('bar charts, stats, node graphs and variables', () => {
    const bars: QueryResult = { meta: meta(['reason', 'String'], ['actions', 'UInt64']), data: [['x', 1]] };
    assert.equal(checkShape(q('barchart'), bars, true).ok, true);
    assert.match(checkShape(q('barchart'), { meta: [bars.meta[1]!, bars.meta[0]!], data: [[1, 'x']] }, true).problems.join(), /x axis/);
    assert.equal(checkShape(q('stat'), { meta: meta(['n', 'UInt64']), data: [[1]] }, true).ok, true);
    assert.match(checkShape(q('stat'), { meta: meta(['n', 'String']), data: [['1']] }, true).problems.join(), /numeric/);
    assert.equal(checkShape(q('nodeGraph'), { meta: meta(['id', 'String'], ['source', 'String'], ['target', 'String'], ['mainstat', 'Float64']), data: [['a', 'b', 'c', 1]] }, true).ok, true);
    assert.match(checkShape(q('nodeGraph'), { meta: meta(['id', 'String'], ['source', 'String']), data: [['a', 'b']] }, true).problems.join(), /both source and target/);
    assert.match(checkShape(q('nodeGraph'), { meta: meta(['id', 'String'], ['title', 'String'], ['mainstat', 'String']), data: [['a', 'b', 'c']] }, true).problems.join(), /mainstat must be numeric/);
    assert.equal(checkShape(q('variable'), { meta: meta(['value', 'String'], ['text', 'String']), data: [['61', 'a']] }, true).ok, true);
    assert.match(checkShape(q('variable'), { meta: meta(['value', 'UInt8']), data: [[1]] }, true).problems.join(), /must be text/);
  });

  test('empty results fail where rows are required; unknown panel types fail', () => {
    assert.match(checkShape(q('stat'), { meta: meta(['n', 'UInt64']), data: [] }, true).problems.join(), /no rows/);
    assert.equal(checkShape(q('stat'), { meta: meta(['n', 'UInt64']), data: [] }, false).ok, true);
    assert.match(checkShape(q('heatmap'), series, true).problems.join(), /no shape rule for panel type heatmap/);
  });
});

describe('finding every query of a dashboard', () => {
  const ds = { type: 'grafana-clickhouse-datasource', uid: '${datasource}' };
  const target = { datasource: ds, editorType: 'sql', format: 1, queryType: 'table', rawSql: 'SELECT 1 AS n', refId: 'A' };
  const board = (panels: unknown[]) => ({ templating: { list: [] }, panels });

  test('panels in rows are found; rows and text panels need no query', () => {
    const found = dashboardQueries('d', board([{ id: 1, type: 'row', title: 'r', panels: [{ id: 2, type: 'stat', title: 's', targets: [target] }] }, { id: 3, type: 'text', title: 't' }]));
    assert.deepEqual(found.map((f) => f.where), ['panel 2 "s" target A']);
  });

  test('a panel without a ClickHouse SQL target cannot slip through', () => {
    assert.throws(() => dashboardQueries('d', board([{ id: 1, type: 'stat', title: 's', targets: [] }])), /has no query/);
    assert.throws(() => dashboardQueries('d', board([{ id: 1, type: 'stat', title: 's' }])), /has no query/);
    assert.throws(() => dashboardQueries('d', board([{ id: 1, type: 'stat', title: 's', targets: [{ ...target, datasource: { type: 'prometheus' } }] }])), /not a ClickHouse query/);
    assert.throws(() => dashboardQueries('d', board([{ id: 1, type: 'stat', title: 's', targets: [{ ...target, editorType: 'builder' }] }])), /no SQL/);
    assert.throws(() => dashboardQueries('d', board([{ id: 1, type: 'timeseries', title: 's', targets: [{ ...target, format: 0, queryType: 'timeSeries' }] }])), /queryType "timeSeries"/);
    assert.throws(() => dashboardQueries('d', board([{ id: 1, type: 'table', title: 's', targets: [target] }])), /organize transformation/);
    assert.throws(() => dashboardQueries('d', { templating: { list: [{ name: 'v', type: 'query', datasource: ds, query: 'SELECT 1' }] }, panels: [] }), /variable v has no ClickHouse SQL/);
  });
});
