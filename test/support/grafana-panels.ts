/**
 * What a dashboard asks of ClickHouse, and what each panel needs back.
 * Pure: reads dashboard JSON and judges result shapes (column names and
 * ClickHouse types as the query's `meta` reports them, plus the rows), so the
 * rules are unit-testable without a store.
 */

export const CLICKHOUSE_PLUGIN = 'grafana-clickhouse-datasource';

/** Panel types that carry no query. Every other panel must query ClickHouse. */
const NO_QUERY_TYPES = new Set(['row', 'text']);

/** Grafana's `format` field of a plugin query (sqlds): 0 time series, 1 table. */
export const FORMAT = { timeSeries: 0, table: 1 } as const;

export interface PanelQuery {
  dashboard: string;
  /** `panel 7 "Actions over time" target A`, or `variable agent`. */
  where: string;
  rawSql: string;
  format: number;
  panelType: string;
  /** Columns a table panel names, in order (its organize transformation). */
  columns?: string[];
}

export interface Column {
  name: string;
  type: string;
}

export interface QueryResult {
  meta: Column[];
  data: unknown[][];
}

/** A panel's verdict on what its query returned: problems, empty when it fits. */
export interface ShapeVerdict {
  ok: boolean;
  problems: string[];
}

interface Json {
  [k: string]: unknown;
}

const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function datasourceType(ds: unknown): string | undefined {
  const d = obj(ds);
  return typeof d.type === 'string' ? d.type : undefined;
}

function tableColumns(panel: Json): string[] | undefined {
  for (const t of arr(panel.transformations)) {
    const tr = obj(t);
    if (tr.id !== 'organize') continue;
    const index = obj(obj(tr.options).indexByName);
    return Object.entries(index).sort((a, b) => Number(a[1]) - Number(b[1])).map(([name]) => name);
  }
  return undefined;
}

function flattenPanels(panels: unknown[]): Json[] {
  return panels.flatMap((p) => [obj(p), ...flattenPanels(arr(obj(p).panels))]);
}

/**
 * Every ClickHouse query of a dashboard: panel targets and query variables.
 * Throws on a panel that has no ClickHouse SQL target, so no panel escapes the check.
 */
export function dashboardQueries(name: string, dashboard: unknown): PanelQuery[] {
  const d = obj(dashboard);
  const out: PanelQuery[] = [];
  for (const v of arr(obj(d.templating).list)) {
    const variable = obj(v);
    if (variable.type !== 'query') continue;
    const q = obj(variable.query);
    if (datasourceType(variable.datasource) !== CLICKHOUSE_PLUGIN || typeof q.rawSql !== 'string' || !q.rawSql.trim()) {
      throw new Error(`${name}: variable ${String(variable.name)} has no ClickHouse SQL query`);
    }
    out.push({ dashboard: name, where: `variable ${String(variable.name)}`, rawSql: q.rawSql, format: FORMAT.table, panelType: 'variable' });
  }
  for (const panel of flattenPanels(arr(d.panels))) {
    const type = String(panel.type);
    const label = `panel ${String(panel.id)} "${String(panel.title)}"`;
    if (NO_QUERY_TYPES.has(type)) {
      if (arr(panel.targets).length) throw new Error(`${name}: ${label} is a ${type} but has targets`);
      continue;
    }
    const targets = arr(panel.targets).map(obj);
    if (!targets.length) throw new Error(`${name}: ${label} has no query`);
    for (const t of targets) {
      const ds = datasourceType(t.datasource) ?? datasourceType(panel.datasource);
      const at = `${label} target ${String(t.refId)}`;
      if (ds !== CLICKHOUSE_PLUGIN) throw new Error(`${name}: ${at} is not a ClickHouse query (datasource ${ds ?? 'none'})`);
      if (t.editorType !== 'sql' || typeof t.rawSql !== 'string' || !t.rawSql.trim()) throw new Error(`${name}: ${at} has no SQL (editorType "sql" and rawSql are required)`);
      if (t.format !== FORMAT.timeSeries && t.format !== FORMAT.table) throw new Error(`${name}: ${at} has format ${String(t.format)}; 0 (time series) or 1 (table) expected`);
      const queryType = t.format === FORMAT.timeSeries ? 'timeseries' : 'table';
      if (t.queryType !== queryType) throw new Error(`${name}: ${at} has queryType ${JSON.stringify(t.queryType)}; the plugin's editor pairs format ${String(t.format)} with "${queryType}"`);
      const columns = type === 'table' ? tableColumns(panel) : undefined;
      if (type === 'table' && !columns) throw new Error(`${name}: ${label} must name its columns in an organize transformation`);
      out.push({ dashboard: name, where: at, rawSql: t.rawSql, format: t.format, panelType: type, ...(columns ? { columns } : {}) });
    }
  }
  return out;
}

// ---------------------------------------------------------------- shapes

const unwrap = (t: string): string => {
  const m = /^(?:Nullable|LowCardinality)\((.*)\)$/.exec(t);
  return m ? unwrap(m[1]!) : t;
};
export const isTime = (t: string) => /^(DateTime64|DateTime|Date32|Date)\b/.test(unwrap(t));
export const isNumeric = (t: string) => /^(U?Int\d+|Float\d+|Decimal)/.test(unwrap(t));
export const isText = (t: string) => /^(String|FixedString|Enum)/.test(unwrap(t));

function verdict(problems: string[]): ShapeVerdict {
  return { ok: problems.length === 0, problems };
}

/** Time series (format 0): one time column, numbers to plot, strings as series labels, time ascending (the plugin's long-to-wide conversion needs it). */
function timeSeriesShape(r: QueryResult): string[] {
  const p: string[] = [];
  const times = r.meta.filter((c) => isTime(c.type));
  if (times.length !== 1) p.push(`a time series needs exactly one time column, got ${times.length}`);
  if (!r.meta.some((c) => isNumeric(c.type))) p.push('a time series needs at least one numeric column');
  for (const c of r.meta) if (!isTime(c.type) && !isNumeric(c.type) && !isText(c.type)) p.push(`column ${c.name} (${c.type}) is neither time, number nor label`);
  if (times.length === 1) {
    const i = r.meta.indexOf(times[0]!);
    const ts = r.data.map((row) => Date.parse(String(row[i]).replace(' ', 'T') + (String(row[i]).endsWith('Z') ? '' : 'Z')));
    if (ts.some((t, k) => k > 0 && t < ts[k - 1]!)) p.push(`rows must be ordered by ${times[0]!.name} ascending`);
  }
  return p;
}

function numericSomewhere(r: QueryResult): string[] {
  return r.meta.some((c) => isNumeric(c.type)) ? [] : ['needs at least one numeric column'];
}

const SHAPES: Record<string, (r: QueryResult, q: PanelQuery) => string[]> = {
  stat: numericSomewhere,
  gauge: numericSomewhere,
  bargauge: numericSomewhere,
  piechart: numericSomewhere,
  /** The x axis is the first column, a label or a time; the bars are numbers. */
  barchart: (r) => {
    const p = numericSomewhere(r);
    const x = r.meta[0];
    if (!x || !(isText(x.type) || isTime(x.type))) p.push(`the first column is the x axis and must be text or time, got ${x ? `${x.name} (${x.type})` : 'none'}`);
    for (const c of r.meta.slice(1)) if (!isNumeric(c.type)) p.push(`bar column ${c.name} (${c.type}) is not numeric`);
    return p;
  },
  table: (r, q) => {
    const got = r.meta.map((c) => c.name);
    return JSON.stringify(got) === JSON.stringify(q.columns) ? [] : [`columns ${JSON.stringify(got)} differ from the panel's ${JSON.stringify(q.columns)}`];
  },
  /** Node graph: a nodes frame (id, title…) or an edges frame (id, source, target); stats are numbers. */
  nodeGraph: (r) => {
    const names = new Set(r.meta.map((c) => c.name));
    const p: string[] = [];
    if (!names.has('id')) p.push('node graph frames need an id column');
    const edges = names.has('source') || names.has('target');
    if (edges && !(names.has('source') && names.has('target'))) p.push('an edges frame needs both source and target');
    if (!edges && !names.has('title')) p.push('a nodes frame needs a title column');
    for (const c of r.meta) if (/^(mainstat|secondarystat|arc__)/.test(c.name) && !isNumeric(c.type)) p.push(`${c.name} must be numeric, got ${c.type}`);
    return p;
  },
  /** Variables: the first column is the value, an optional second the text shown. */
  variable: (r) => {
    const p: string[] = [];
    if (r.meta.length < 1 || r.meta.length > 2) p.push(`a variable query returns one or two columns, got ${r.meta.length}`);
    for (const c of r.meta) if (!isText(c.type)) p.push(`variable column ${c.name} must be text, got ${c.type}`);
    return p;
  },
};

/**
 * Judges a query's result against what its panel needs. `requireRows`: the
 * query must return something (it does on the demo's data).
 */
export function checkShape(q: PanelQuery, r: QueryResult, requireRows: boolean): ShapeVerdict {
  const rule = SHAPES[q.panelType];
  const problems: string[] = [];
  if (q.format === FORMAT.timeSeries) {
    if (q.panelType !== 'timeseries') problems.push(`format 0 (time series) on a ${q.panelType} panel`);
    problems.push(...timeSeriesShape(r));
  } else if (q.panelType === 'timeseries') {
    problems.push('a timeseries panel needs format 0 (time series)');
  } else if (!rule) {
    problems.push(`no shape rule for panel type ${q.panelType}: add one before using it`);
  } else {
    problems.push(...rule(r, q));
  }
  if (requireRows && r.data.length === 0) problems.push('returned no rows');
  return verdict(problems);
}
