import { z } from 'zod';
import { withNames } from './aliases.js';

// How aggregate_records' measures and groups arrive from models (SQL's text, words, other APIs' shapes) and
// the one form each means; the tool's schema checks what these give.

export const OPS = ['count', 'sum', 'avg', 'min', 'max', 'countDistinct'] as const;
export type Op = (typeof OPS)[number];
/** Other names for the measures (OData's "average", SQL's "AVG", words): one meaning each */
export const OP_NAMES: ReadonlyMap<string, Op> = new Map([
  ...OPS.map((o) => [o.toLowerCase(), o] as const),
  ['average', 'avg'],
  ['mean', 'avg'],
  ['total', 'sum'],
  ['minimum', 'min'],
  ['maximum', 'max'],
  ['distinct', 'countDistinct'],
  ['distinctcount', 'countDistinct'],
]);
/** An op by any of its names, in any casing, with or without its words' separators (count_distinct, COUNT DISTINCT) */
export const opAsMeant = (v: unknown) =>
  typeof v === 'string'
    ? (OP_NAMES.get(
        v
          .trim()
          .toLowerCase()
          .replace(/[\s_-]+/g, ''),
      ) ?? v)
    : v;

/**
 * Measures as models write them, where each means one thing: SQL's text ("sum(revenue), count(*)"), an op
 * name alone ("count"), words ("sum of estimatedvalue", "average Annual Revenue"), {sum: "revenue"}, and
 * field/function for column/op. What is left is refused. Words with count are left to the check ("count of
 * deals" names no column), as is anything whose first word is not a measure.
 */
export function measuresAsMeant(v: unknown): unknown {
  const items =
    typeof v === 'string' ? v.split(/,(?![^(]*\))/) : Array.isArray(v) ? v : v && typeof v === 'object' ? [v] : v;
  if (!Array.isArray(items)) return items;
  return items.map((item) => {
    if (typeof item === 'string') {
      // SQL's alias ("sum(revenue) as total") names the result, which the answer names itself (sum_revenue)
      const text = item.replace(/\)\s+as\s+\w+\s*$/i, ')');
      // "count distinct parentaccountid", as SQL's COUNT(DISTINCT …) reads in words
      const distinct = /^\s*count\s+distinct\s+(?:of\s+)?([\w/][\w/ ]*?)\s*$/i.exec(text);
      if (distinct) return { op: 'countDistinct', column: distinct[1] };
      // the column may be a label with spaces ("avg(Annual Revenue)"): resolved with the other names
      const m = /^\s*(\w+)\s*(?:\(\s*(\*|distinct\s+)?\s*([\w/ ]*?)\s*\))?\s*$/i.exec(text);
      const words = m ? undefined : /^\s*(\w+)\s+(?:of\s+)?([\w/][\w/ ]*?)\s*$/i.exec(text);
      const wordOp = words && OP_NAMES.get(words[1]!.toLowerCase());
      if (words && wordOp && wordOp !== 'count') return { op: wordOp, column: words[2] };
      const named = m ? undefined : namedMeasure(text);
      if (named) return named;
      if (!m) return item;
      // the name an answer gives a measure (sum_revenue, countDistinct_address1_city), said back
      const answered = !m[2] && !m[3] && opAsMeant(m[1]) === m[1] ? /^([a-z]+)_(\w+)$/i.exec(m[1]!) : null;
      const answeredOp = answered && OP_NAMES.get(answered[1]!.toLowerCase());
      if (answeredOp) return { op: answeredOp, column: answered![2] };
      const op = m[2]?.trim().toLowerCase() === 'distinct' ? 'countDistinct' : m[1]!;
      return { op, ...(m[3] ? { column: m[3] } : {}) };
    }
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return item;
    const entries = Object.entries(item);
    if (entries.length === 1 && typeof entries[0]![1] === 'string' && OP_NAMES.has(entries[0]![0].toLowerCase()))
      return { op: entries[0]![0], column: entries[0]![1] };
    return withNames(item, MEASURE_ALIASES);
  });
}
/** "avg:estimatedvalue" or "estimatedvalue:avg", as groupBy's "createdon:month" is written: one op, one column */
function namedMeasure(text: string): { op: Op; column: string } | undefined {
  const parts = /^\s*([\w/ ]+?)\s*:\s*([\w/ ]+?)\s*$/.exec(text);
  if (!parts) return undefined;
  const [first, second] = [OP_NAMES.get(parts[1]!.toLowerCase()), OP_NAMES.get(parts[2]!.toLowerCase())];
  if (first && !second) return { op: first, column: parts[2]! };
  if (second && !first) return { op: second, column: parts[1]! };
  return undefined;
}
/**
 * groupBy as models write it: text is cut at its commas only ("createdon by month" is one entry, not a list of
 * names), and a date's period may come as an object ({"column": "createdon", "by": "month"}, or period, unit,
 * interval, or {"createdon": "month"}): that is "createdon by month". Anything else goes on to the schema's check.
 */
export function groupsAsMeant(v: unknown): unknown {
  if (typeof v === 'string') return v.split(/,(?![^(]*\))/).map((n) => n.trim());
  const items = Array.isArray(v) ? v : v && typeof v === 'object' ? [v] : v;
  if (!Array.isArray(items)) return items;
  return items.map((item) => {
    if (!item || typeof item !== 'object' || Array.isArray(item)) return item;
    const { column, ...rest } = withNames(item, [
      ['field', 'column'],
      ['attribute', 'column'],
    ]) as Record<string, unknown>;
    const keys = Object.keys(rest);
    const unit = keys.length === 1 && /^(by|period|unit|interval)$/i.test(keys[0]!) ? rest[keys[0]!] : undefined;
    if (typeof column === 'string' && keys.length === 0) return column;
    // {"createdon": "month"}: a date column named by its key, the period its value (checked as "createdon by month")
    if (column === undefined && keys.length === 1 && unit === undefined && typeof rest[keys[0]!] === 'string')
      return `${keys[0]} by ${rest[keys[0]!]}`;
    return typeof column === 'string' && typeof unit === 'string' ? `${column} by ${unit}` : item;
  });
}
/**
 * A measure given as an argument of its own ({"sum": "estimatedvalue"}, {"avg": ["a", "b"]}, {"count": true}),
 * as models write it beside groupBy: the same measure as {"op": "sum", "column": "estimatedvalue"} in measures,
 * added to those given there. Only names that mean one measure each (OP_NAMES); anything else is left to the
 * check of argument names.
 */
export function withMeasuresAtTop<S extends z.ZodType>(args: S) {
  return z.preprocess((v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    const given = v as Record<string, unknown>;
    const listed = given.measures;
    if (listed !== undefined && !Array.isArray(listed)) return v;
    const rest: Record<string, unknown> = {};
    const measures: unknown[] = [...((listed as unknown[] | undefined) ?? [])];
    for (const [key, value] of Object.entries(given)) {
      const op = key === 'measures' ? undefined : OP_NAMES.get(key.toLowerCase());
      const columns = typeof value === 'string' ? value.split(',') : value;
      if (op === 'count' && (value === true || value === '*')) measures.push({ op });
      else if (op && Array.isArray(columns) && columns.length && columns.every((c) => typeof c === 'string'))
        measures.push(...columns.map((column) => ({ op, column: column.trim() })));
      else if (key !== 'measures') rest[key] = value;
    }
    return measures.length === ((listed as unknown[] | undefined)?.length ?? 0) ? v : { ...rest, measures };
  }, args);
}
const MEASURE_ALIASES = [
  ['field', 'column'],
  ['attribute', 'column'],
  ['function', 'op'],
  ['aggregate', 'op'],
] as const;
export const MEASURE_SHAPE = 'each measure is {"op":"sum","column":"revenue"} or {"op":"count"}.';
