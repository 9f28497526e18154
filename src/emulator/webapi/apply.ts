import type { AggregateItem, ApplyStep } from '../../odata/ast.js';
import { isLookup } from '../schema/index.js';
import type { AttributeDef, EntityDef } from '../schema/types.js';
import { isLookupRef, type Row, type Value } from '../store/store.js';
import type { QueryEnv } from './env.js';
import { aggregateLimit, badRequest, unknownProperty } from './errors.js';
import { compileFilter } from './filter.js';
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
  if (lookup) return { key: name, attr: lookup, get: (row) => row[lookup.logicalName] };
  const attr = env.schema.attribute(entity, name);
  if (!attr || isLookup(attr)) throw unknownProperty(name, entity.logicalName);
  return { key: name, attr, get: (row) => row[name] };
}

const NUMERIC = new Set(['Integer', 'BigInt', 'Decimal', 'Double', 'Money']);

function aggregate(
  env: QueryEnv,
  entity: EntityDef,
  items: AggregateItem[],
  rows: Row[],
  annotations: AnnotationFilter,
) {
  const out: Record<string, unknown> = {};
  for (const item of items) {
    if (item.method === 'count') {
      if (annotations(FORMATTED)) out[`${item.alias}@${FORMATTED}`] = formatCount(rows.length);
      out[item.alias] = rows.length;
      continue;
    }
    const col = column(env, entity, item.path!);
    const values = rows.map(col.get).filter((v): v is Value => v !== null && v !== undefined);
    if (item.method === 'countdistinct') {
      out[item.alias] = new Set(values.map((v) => (isLookupRef(v) ? v.id : v))).size;
      continue;
    }
    const isDate = col.attr.type === 'DateTime';
    if (!NUMERIC.has(col.attr.type) && !(isDate && (item.method === 'min' || item.method === 'max')))
      throw badRequest(
        `The aggregation '${item.method}' cannot be applied to '${item.path!.join('/')}' of type ${col.attr.type}.`,
      );
    let result: Value = null;
    if (values.length) {
      if (isDate) {
        const sorted = (values as string[]).slice().sort();
        result = item.method === 'min' ? sorted[0]! : sorted[sorted.length - 1]!;
      } else {
        const nums = values as number[];
        if (item.method === 'sum') result = nums.reduce((a, b) => a + b, 0);
        else if (item.method === 'average') result = nums.reduce((a, b) => a + b, 0) / nums.length;
        else if (item.method === 'min') result = Math.min(...nums);
        else result = Math.max(...nums);
      }
    }
    if (annotations(FORMATTED) && result !== null) {
      const f = formatValue(col.attr, result);
      if (f !== undefined) out[`${item.alias}@${FORMATTED}`] = f;
    }
    out[item.alias] = result;
  }
  return out;
}

/** Group values as Map keys: lookups by id, nulls as one shared key (Map keys compare by SameValueZero). */
const NULL_KEY = Symbol('null');
const groupKey = (v: Value | undefined) => (v === null || v === undefined ? NULL_KEY : isLookupRef(v) ? v.id : v);

interface Group {
  values: (Value | undefined)[];
  rows: Row[];
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

  const kept: Row[] = [];
  let matched = 0;
  // groups in first-seen order, found through one nested Map level per group column
  const groups: Group[] = [];
  const root = new Map<unknown, unknown>();
  const last = cols.length - 1;
  scan: for (const row of env.store.table(entity.logicalName).rows.values()) {
    for (let i = 0; i < preds.length; i++) if (!preds[i]!(row, env)) continue scan;
    if (limited && ++matched > limit) throw aggregateLimit();
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
      g = { values: cols.map((c) => c.get(row)), rows: [] };
      level.set(k, g);
      groups.push(g);
    }
    g.rows.push(row);
  }

  if (!terminal) return kept.map((r) => ({ [entity.primaryIdAttribute]: r[entity.primaryIdAttribute] }));
  if (terminal.kind === 'aggregate') return [aggregate(env, entity, terminal.items, kept, annotations)];
  const items = terminal.aggregate;
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
    return items ? { ...out, ...aggregate(env, entity, items, g.rows, annotations) } : out;
  });
}
