import type { AggregateItem, ApplyStep } from '../../odata/ast.js';
import { isLookup } from '../schema/index.js';
import { type AttributeDef, type EntityDef, PRINCIPAL } from '../schema/types.js';
import { columnReader } from '../store/column-reader.js';
import { isLookupRef, type Row, type Value } from '../store/store.js';
import type { QueryEnv } from './env.js';
import { aggregateLimit, badRequest, unknownProperty } from './errors.js';
import { compileFilter } from './filter.js';
import { foldText } from './filter-values.js';
import type { AnnotationFilter } from './shape.js';
import { formatCount, formatValue } from './values.js';

const FORMATTED = 'OData.Community.Display.V1.FormattedValue';

interface Column {
  /** output property: the column, `_x_value`, or `<related logical name>_<column>` for lookup paths (AGG) */
  key: string;
  attr: AttributeDef;
  get: (row: Row) => Value | undefined;
}

function column(env: QueryEnv, entity: EntityDef, path: string[]): Column {
  if (path.length === 2) {
    const nav = entity.manyToOne.find((m) => m.navigationProperty === path[0]);
    if (!nav) throw unknownProperty(path[0]!, entity.logicalName);
    if (nav.target === PRINCIPAL) throw unknownProperty(path[1]!, 'principal');
    const target = env.schema.entity(nav.target)!;
    const attr = env.schema.attribute(target, path[1]!);
    if (!attr || isLookup(attr)) throw unknownProperty(path[1]!, target.logicalName);
    return {
      key: `${target.logicalName}_${attr.logicalName}`,
      attr,
      get: (row) => env.related(row[nav.attribute], nav.target)?.[attr.logicalName],
    };
  }
  if (path.length !== 1) throw badRequest(`$apply does not support the path '${path.join('/')}'.`);
  const name = path[0]!;
  const lookup = env.schema.lookupFromValueName(entity, name);
  if (lookup) return { key: name, attr: lookup, get: columnReader(lookup.logicalName) };
  const attr = env.schema.attribute(entity, name);
  if (!attr || isLookup(attr)) throw unknownProperty(name, entity.logicalName);
  return { key: name, attr, get: columnReader(attr.logicalName) };
}

const NUMERIC = new Set(['Integer', 'BigInt', 'Decimal', 'Double', 'Money']);

/** One aggregate of one group, fed row by row. */
interface Accumulator {
  /** absent for $count, which is the group's row count */
  add?(row: Row): void;
  write(out: Record<string, unknown>, rows: number): void;
}

/**
 * Compiles one aggregate item (checking the column and the method once, before any row is read) into a
 * maker of accumulators: one per group, so a 50,000-row groupby keeps running totals instead of row lists.
 */
function aggregator(
  env: QueryEnv,
  entity: EntityDef,
  item: AggregateItem,
  annotations: AnnotationFilter,
): () => Accumulator {
  const formatted = annotations(FORMATTED);
  const { alias, method } = item;
  if (method === 'count') {
    const count: Accumulator = {
      write: (out, n) => {
        if (formatted) out[`${alias}@${FORMATTED}`] = formatCount(n);
        out[alias] = n;
      },
    };
    return () => count;
  }
  const col = column(env, entity, item.path!);
  if (method === 'countdistinct')
    return () => {
      const seen = new Set<unknown>();
      return {
        add: (row) => {
          const v = col.get(row);
          if (v !== null && v !== undefined) seen.add(sameKey(v));
        },
        write: (out) => {
          out[alias] = seen.size;
        },
      };
    };
  const isDate = col.attr.type === 'DateTime';
  if (!NUMERIC.has(col.attr.type) && !(isDate && (method === 'min' || method === 'max')))
    throw badRequest(
      `The aggregation '${method}' cannot be applied to '${item.path!.join('/')}' of type ${col.attr.type}.`,
    );
  return () => {
    let n = 0;
    let sum = 0;
    // dates are ISO text, which orders like the instants it names
    let best: number | string | null = null;
    return {
      add: (row) => {
        const v = col.get(row) as number | string | null | undefined;
        if (v === null || v === undefined) return;
        n++;
        if (method === 'sum' || method === 'average') sum += v as number;
        else if (best === null || (method === 'min' ? v < best : v > best)) best = v;
      },
      write: (out) => {
        const result = n === 0 ? null : method === 'sum' ? sum : method === 'average' ? sum / n : best;
        if (formatted && result !== null) {
          const f = formatValue(col.attr, result);
          if (f !== undefined) out[`${alias}@${FORMATTED}`] = f;
        }
        out[alias] = result;
      },
    };
  };
}

/** A group's accumulators, one per aggregate item, and how many rows went in. */
interface Totals {
  rows: number;
  each: Accumulator[];
  /** the ones fed row by row */
  adders: Accumulator[];
}

function aggregators(
  env: QueryEnv,
  entity: EntityDef,
  items: AggregateItem[],
  annotations: AnnotationFilter,
): () => Totals {
  const makers = items.map((item) => aggregator(env, entity, item, annotations));
  return () => {
    const each = makers.map((make) => make());
    return { rows: 0, each, adders: each.filter((a) => a.add) };
  };
}

function addRow(t: Totals, row: Row): void {
  t.rows++;
  for (let i = 0; i < t.adders.length; i++) t.adders[i]!.add!(row);
}

function writeTotals(t: Totals, out: Record<string, unknown>): void {
  for (const a of t.each) a.write(out, t.rows);
}

/**
 * Group values as Map keys: lookups by id, text as the collation compares it ("Contoso" and "contoso", "Müller"
 * and "Muller" are one group, shown as the first row's value, as SQL groups them), nulls as one shared key (Map
 * keys compare by SameValueZero).
 */
const NULL_KEY = Symbol('null');
const sameKey = (v: Value) => (isLookupRef(v) ? v.id : typeof v === 'string' ? foldText(v) : v);
const groupKey = (v: Value | undefined) => (v === null || v === undefined ? NULL_KEY : sameKey(v));

interface Group {
  values: (Value | undefined)[];
  totals?: Totals;
}

/**
 * AGG: filter / groupby / aggregate over the table. Aggregates are limited to `limit` input rows
 * (50,000 by default: AggregateQueryRecordLimitExceeded); groupby on datetime columns is not supported;
 * null group values are left out of the row.
 *
 * One pass over the table: the filters run on each row as it is read and the rows that pass go straight
 * into their group, so a 50,000-row aggregate costs one scan, not a filtered copy plus a keyed copy.
 */
export function runApply(
  env: QueryEnv,
  entity: EntityDef,
  steps: ApplyStep[],
  annotations: AnnotationFilter,
  limit: number,
): Record<string, unknown>[] {
  const preds: ReturnType<typeof compileFilter>[] = [];
  let terminal: Exclude<ApplyStep, { kind: 'filter' }> | undefined;
  for (const step of steps) {
    if (terminal) throw badRequest('$apply: no transformation may follow groupby or aggregate.');
    if (step.kind === 'filter') preds.push(compileFilter(env.schema, env.aliases, step.expr, entity));
    else terminal = step;
  }
  const cols = terminal?.kind === 'groupby' ? terminal.paths.map((p) => column(env, entity, p)) : [];
  const dt = cols.find((c) => c.attr.type === 'DateTime');
  if (dt) throw badRequest(`Grouping by the date and time column '${dt.key}' is not supported.`);
  const limited = terminal?.kind === 'aggregate' || (terminal?.kind === 'groupby' && terminal.aggregate);
  const items =
    terminal?.kind === 'aggregate' ? terminal.items : terminal?.kind === 'groupby' ? terminal.aggregate : undefined;
  const makeTotals = items ? aggregators(env, entity, items, annotations) : undefined;
  const overall = terminal?.kind === 'aggregate' ? makeTotals!() : undefined;

  const kept: Row[] = [];
  let matched = 0;
  // groups in first-seen order, found through one nested Map level per group column
  const groups: Group[] = [];
  const root = new Map<unknown, unknown>();
  const last = cols.length - 1;
  // successive filter() steps narrow the same rows: one predicate that asks each in turn
  const pred =
    preds.length === 0
      ? undefined
      : preds.length === 1
        ? preds[0]!
        : (row: Row, e: QueryEnv) => preds.every((p) => p(row, e));
  for (const row of env.store.table(entity.logicalName).rows.values()) {
    if (pred && !pred(row, env)) continue;
    if (limited && ++matched > limit) throw aggregateLimit();
    if (overall) {
      addRow(overall, row);
      continue;
    }
    if (!cols.length) {
      kept.push(row);
      continue;
    }
    let level = root;
    for (let i = 0; i < last; i++) {
      const k = groupKey(cols[i]!.get(row));
      let next = level.get(k) as Map<unknown, unknown> | undefined;
      if (!next) {
        next = new Map();
        level.set(k, next);
      }
      level = next;
    }
    const k = groupKey(cols[last]!.get(row));
    let g = level.get(k) as Group | undefined;
    if (!g) {
      g = { values: cols.map((c) => c.get(row)), totals: makeTotals?.() };
      level.set(k, g);
      groups.push(g);
    }
    if (g.totals) addRow(g.totals, row);
  }

  if (!terminal) return kept.map((r) => ({ [entity.primaryIdAttribute]: r[entity.primaryIdAttribute] }));
  if (overall) {
    const out: Record<string, unknown> = {};
    writeTotals(overall, out);
    return [out];
  }
  return groups.map((g) => {
    const out: Record<string, unknown> = {};
    cols.forEach((c, i) => {
      const v = g.values[i];
      if (v === null || v === undefined) return;
      if (annotations(FORMATTED)) {
        const f = isLookupRef(v) ? env.relatedName(v) : formatValue(c.attr, v);
        if (f !== undefined) out[`${c.key}@${FORMATTED}`] = f;
      }
      out[c.key] = isLookupRef(v) ? v.id : v;
    });
    if (g.totals) writeTotals(g.totals, out);
    return out;
  });
}
