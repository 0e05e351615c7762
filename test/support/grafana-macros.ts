/**
 * Expands a Grafana ClickHouse panel query the way a browser and the plugin
 * would, so the dashboards' SQL can run against chdb in tests.
 *
 * Semantics followed: grafana-clickhouse-datasource 4.20.0 (the plugin the
 * compose file installs) on Grafana 12. A query goes through three stages, in
 * this order:
 *  1. the plugin's front end rewrites `$__conditionalAll(cond, $var)`: to
 *     `1=1` when the variable is All or empty, otherwise to `cond`
 *     (CHDatasource.applyConditionalAll: innermost-last, exactly two args);
 *  2. Grafana's template service replaces `$var`, `${var}`, `${var:format}`
 *     and `[[var]]`; a multi-value without an explicit format becomes
 *     `'a','b'` (the plugin's own formatter, which does not escape), a single
 *     value stays raw; a custom "all value" is never formatted;
 *  3. the plugin's back end (pkg/macros, on grafana/macropro) strips comments,
 *     then expands `$__name(args)` macros, longest name first, arguments split
 *     on top-level commas outside string literals, nested macros expanded.
 *
 * Anything the plugin would leave unexpanded (an unknown macro, an unknown
 * variable) is reported as an error rather than sent on: ClickHouse would
 * fail on it anyway, with a less useful message.
 */

/** The plugin version whose semantics this file follows; docker-compose.yml pins the same one. */
export const PLUGIN_VERSION = '4.20.0';

export interface VariableState {
  /** The selection: one value, several, or the All option (`$__all`). */
  current: string | string[];
  /** Custom value sent for All (Grafana's `allValue`); without one, All sends every option. */
  allValue?: string;
  /** The variable's options, without All: what All expands to. */
  options: string[];
}

export interface QueryContext {
  from: Date;
  to: Date;
  /** The interval Grafana computed for the panel (ms). */
  intervalMs: number;
  variables: Record<string, VariableState>;
}

export class MacroError extends Error {}

const ALL = '$__all';

function isAll(v: string | string[]): boolean {
  return v === ALL || (Array.isArray(v) && v[0] === ALL);
}

// ---------------------------------------------------------------- stage 1

/** Splits `(a, f(b, c))` at top-level commas, as the plugin's getMacroArgs does (no quote awareness, untrimmed). */
function frontEndArgs(query: string, open: number): { args: string[]; end: number } | undefined {
  let depth = 0;
  let last = open + 1;
  const args: string[] = [];
  for (let i = open; i < query.length; i++) {
    const c = query[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    if (c === ',' && depth === 1) {
      args.push(query.slice(last, i));
      last = i + 1;
    }
    if (depth === 0) {
      args.push(query.slice(last, i));
      return { args, end: i };
    }
  }
  return undefined;
}

export function applyConditionalAll(query: string, variables: Record<string, VariableState>): string {
  const macro = '$__conditionalAll(';
  let at = query.lastIndexOf(macro);
  while (at !== -1) {
    const parsed = frontEndArgs(query, at + macro.length - 1);
    // The plugin gives up on the whole query here; the back end then leaves the macro in place.
    if (!parsed || parsed.args.length !== 2) return query;
    const [cond, varArg] = parsed.args as [string, string];
    const name = /(?<=\$\{)\w+(?=\})|(?<=\$)\w+/.exec(varArg.trim())?.[0];
    let phrase = cond;
    if (name !== undefined) {
      const v = variables[name];
      if (v) {
        const value = Array.isArray(v.current) ? v.current.join(',') : v.current;
        if (value === '' || value === ALL) phrase = '1=1';
      }
    }
    query = query.replace(`${macro}${cond},${varArg})`, phrase);
    at = query.lastIndexOf(macro);
  }
  return query;
}

// ---------------------------------------------------------------- stage 2

const VARIABLE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}/g;

function formatValue(value: string | string[], format: string | undefined, name: string): string {
  const values = Array.isArray(value) ? value : [value];
  switch (format) {
    case undefined: // the plugin's formatter
      return Array.isArray(value) ? `'${value.join("','")}'` : value;
    case 'raw':
      return values.join(',');
    case 'csv':
      return values.join(',');
    case 'singlequote':
      return values.map((v) => `'${v.replace(/'/g, "\\'")}'`).join(',');
    case 'doublequote':
      return values.map((v) => `"${v.replace(/"/g, '\\"')}"`).join(',');
    case 'sqlstring':
      return values.map((v) => `'${v.replace(/'/g, "''")}'`).join(',');
    default:
      throw new MacroError(`variable ${name}: format "${format}" is not supported by this expander`);
  }
}

/** Grafana's built-in variables a panel query may use (supplied as scoped variables). */
function builtins(ctx: QueryContext): Record<string, string> {
  return {
    __from: String(ctx.from.getTime()),
    __to: String(ctx.to.getTime()),
    __interval_ms: String(ctx.intervalMs),
    __interval: formatDuration(ctx.intervalMs),
  };
}

export function replaceVariables(query: string, ctx: QueryContext): string {
  const scoped = builtins(ctx);
  return query.replace(VARIABLE, (match, v1?: string, v2?: string, f2?: string, v3?: string, path?: string, f3?: string) => {
    const name = (v1 ?? v2 ?? v3)!;
    const format = f2 ?? f3;
    if (path !== undefined) throw new MacroError(`variable ${name}: field paths (\${${name}.${path}}) are not supported by this expander`);
    if (name in scoped) return formatValue(scoped[name]!, format, name);
    const v = ctx.variables[name];
    if (!v) return match; // Grafana leaves unknown names alone: $__timeFilter and friends pass through here.
    if (isAll(v.current)) {
      if (v.allValue !== undefined && format !== 'text' && format !== 'percentencode') return replaceVariables(v.allValue, ctx);
      return formatValue(v.options, format, name);
    }
    return formatValue(v.current, format, name);
  });
}

// ---------------------------------------------------------------- stage 3

/** Index just past a quoted region starting at `pos` ('…', "…" or `…`), honouring doubled quotes and backslash escapes. */
function skipQuoted(s: string, pos: number): number {
  const q = s[pos];
  let j = pos + 1;
  while (j < s.length) {
    if (s[j] === '\\') {
      j += 2;
      continue;
    }
    if (s[j] === q) {
      if (s[j + 1] === q) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    j++;
  }
  return j;
}

const isQuote = (c: string | undefined) => c === "'" || c === '"' || c === '`';

/** Blanks `--` and block comments outside quoted regions (same length), as the plugin does before expanding. */
export function stripComments(s: string): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    if (isQuote(s[i])) {
      const j = skipQuoted(s, i);
      out += s.slice(i, j);
      i = j;
    } else if (s.startsWith('--', i)) {
      let j = i;
      while (j < s.length && s[j] !== '\n' && s[j] !== '\r') j++;
      out += ' '.repeat(j - i);
      i = j;
    } else if (s.startsWith('/*', i)) {
      const close = s.indexOf('*/', i + 2);
      const j = close === -1 ? s.length : close + 2;
      out += ' '.repeat(j - i);
      i = j;
    } else {
      out += s[i++];
    }
  }
  return out;
}

function closingParen(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length;) {
    if (isQuote(s[i])) {
      i = skipQuoted(s, i);
      continue;
    }
    if (s[i] === '(') depth++;
    else if (s[i] === ')' && --depth === 0) return i;
    i++;
  }
  return -1;
}

function splitArgs(raw: string, macro: string): string[] {
  raw = raw.trim();
  if (raw === '') return [];
  const args: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < raw.length;) {
    const c = raw[i];
    if (isQuote(c)) {
      i = skipQuoted(raw, i);
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')') {
      if (depth === 0) throw new MacroError(`${macro}: unexpected ')' in arguments`);
      depth--;
    } else if (c === ',' && depth === 0) {
      args.push(raw.slice(start, i).trim());
      start = i + 1;
    }
    i++;
  }
  args.push(raw.slice(start).trim());
  return args;
}

type Macro = (ctx: QueryContext, args: string[]) => string;

const unix = (d: Date) => Math.floor(d.getTime() / 1000);
const dateTime = (d: Date) => `toDateTime(${unix(d)})`;
const dateTime64 = (d: Date) => `fromUnixTimestamp64Milli(${d.getTime()})`;
const date = (d: Date) => `toDate('${d.toISOString().slice(0, 10)}')`;
const seconds = (ctx: QueryContext) => Math.max(Math.floor(ctx.intervalMs / 1000), 1);

function arity(name: string, want: number, args: string[]): void {
  if (args.length !== want) throw new MacroError(`$__${name} expected ${want} argument(s), received ${args.length}`);
}

function formatDuration(ms: number): string {
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim().replace(/^['"]|['"]$/g, ''));
  if (!m) throw new MacroError(`$__timeGroup: invalid interval ${JSON.stringify(text)}`);
  const sec = Math.round((Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] as 'ms' | 's' | 'm' | 'h']));
  if (sec <= 0) throw new MacroError(`$__timeGroup: interval must be positive, got ${JSON.stringify(text)}`);
  return sec;
}

const range = (col: string, lo: string, hi: string) => `${col} >= ${lo} AND ${col} <= ${hi}`;

/** The plugin's macro set: macropro's defaults with its ClickHouse overrides and extensions. */
const MACROS: Record<string, Macro> = {
  timeFilter: (c, a) => (arity('timeFilter', 1, a), range(a[0]!, dateTime(c.from), dateTime(c.to))),
  timeFilter_ms: (c, a) => (arity('timeFilter_ms', 1, a), range(a[0]!, dateTime64(c.from), dateTime64(c.to))),
  dateFilter: (c, a) => (arity('dateFilter', 1, a), range(a[0]!, date(c.from), date(c.to))),
  dateTimeFilter: (c, a) => (arity('dateTimeFilter', 2, a), `(${range(a[0]!, date(c.from), date(c.to))}) AND (${range(a[1]!, dateTime(c.from), dateTime(c.to))})`),
  dt: (c, a) => MACROS.dateTimeFilter!(c, a),
  timeFrom: (c, a) => (arity('timeFrom', 1, a), `${a[0]} >= ${dateTime(c.from)}`),
  timeTo: (c, a) => (arity('timeTo', 1, a), `${a[0]} <= ${dateTime(c.to)}`),
  fromTime: (c) => dateTime(c.from),
  toTime: (c) => dateTime(c.to),
  fromTime_ms: (c) => dateTime64(c.from),
  toTime_ms: (c) => dateTime64(c.to),
  timeInterval: (c, a) => (arity('timeInterval', 1, a), `toStartOfInterval(toDateTime(${a[0]}), INTERVAL ${seconds(c)} second)`),
  timeInterval_ms: (c, a) => (arity('timeInterval_ms', 1, a), `toStartOfInterval(toDateTime64(${a[0]}, 3), INTERVAL ${Math.max(c.intervalMs, 1)} millisecond)`),
  timeGroup: (_c, a) => (arity('timeGroup', 2, a), `toStartOfInterval(toDateTime(${a[0]}), INTERVAL ${parseDuration(a[1]!)} second)`),
  interval_s: (c) => String(seconds(c)),
  interval: (c) => formatDuration(c.intervalMs),
  interval_ms: (c) => String(c.intervalMs),
  table: () => {
    throw new MacroError('$__table: no table name in query context (SQL editor queries have none)');
  },
  column: () => {
    throw new MacroError('$__column: no column name in query context (SQL editor queries have none)');
  },
};
/** Statement macros rewrite the whole query; the dashboards do not use them, so they are refused rather than half-emulated. */
const STATEMENT_MACROS = ['columns', 'rateColumns', 'perSecondColumns', 'increaseColumns', 'lttb'];
const NAMES = Object.keys(MACROS).sort((a, b) => b.length - a.length || a.localeCompare(b));
const isNameChar = (c: string | undefined) => c !== undefined && /\w/.test(c);

function expandMacro(s: string, name: string, ctx: QueryContext): string {
  const token = `$__${name}`;
  let out = '';
  for (;;) {
    const at = s.indexOf(token);
    if (at === -1) return out + s;
    const after = at + token.length;
    if (isNameChar(s[after])) {
      out += s.slice(0, after);
      s = s.slice(after);
      continue;
    }
    out += s.slice(0, at);
    s = s.slice(after);
    let raw = '';
    if (s[0] === '(') {
      const end = closingParen(s, 0);
      if (end !== -1) {
        raw = s.slice(1, end);
        s = s.slice(end + 1);
      }
    }
    // Nested macros inside arguments expand first (plugin 4.20.0, #2043).
    out += MACROS[name]!(ctx, splitArgs(expandMacros(raw, ctx), token));
  }
}

function expandMacros(s: string, ctx: QueryContext): string {
  for (const name of NAMES) s = expandMacro(s, name, ctx);
  return s;
}

/** Text outside quoted regions, for spotting what was left unexpanded. */
function unquoted(s: string): string {
  let out = '';
  for (let i = 0; i < s.length;) {
    if (isQuote(s[i])) {
      const j = skipQuoted(s, i);
      out += ' '.repeat(j - i);
      i = j;
    } else out += s[i++];
  }
  return out;
}

export function expandBackendMacros(query: string, ctx: QueryContext): string {
  const stripped = stripComments(query);
  for (const name of STATEMENT_MACROS) {
    if (new RegExp(`\\$__${name}(?!\\w)`).test(unquoted(stripped))) throw new MacroError(`$__${name} is a statement macro this expander does not emulate`);
  }
  const expanded = expandMacros(stripped, ctx);
  const left = /\$__\w+|\$\{[^}]*\}|\$[A-Za-z_]\w*|\[\[\w+(?::\w+)?\]\]/.exec(unquoted(expanded));
  if (left) throw new MacroError(`unexpanded ${left[0].startsWith('$__') ? 'macro' : 'variable'} ${left[0]}`);
  return expanded;
}

/** The SQL ClickHouse receives for a panel query, under the given time range, interval and variable selection. */
export function expandQuery(rawSql: string, ctx: QueryContext): string {
  return expandBackendMacros(replaceVariables(applyConditionalAll(rawSql, ctx.variables), ctx), ctx);
}
