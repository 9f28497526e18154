import type { ExpandItem } from '../../odata/ast.js';
import { expandToOData, filterToOData, orderByToOData } from '../../odata/serialize.js';
import { isLookup } from '../schema/index.js';
import { type AttributeDef, type EntityDef, PRINCIPAL } from '../schema/types.js';
import { guidKey, isLookupRef, type Row, type Value } from '../store/store.js';
import type { QueryEnv } from './env.js';
import { badRequest, DataverseError, unknownProperty } from './errors.js';
import { compileFilter } from './filter.js';
import { foldText } from './filter-values.js';
import { formatValue } from './values.js';

const FORMATTED = 'OData.Community.Display.V1.FormattedValue';
const NAVPROP = 'Microsoft.Dynamics.CRM.associatednavigationproperty';
const LOGICAL = 'Microsoft.Dynamics.CRM.lookuplogicalname';

export type AnnotationFilter = (name: string) => boolean;

/** `odata.include-annotations="a,b.*"` → a matcher (COMPOSE: comma-separated, `*` wildcard). */
export function annotationFilter(prefer: string | undefined): AnnotationFilter {
  const m = prefer ? /odata\.include-annotations="?([^";]*)"?/.exec(prefer) : null;
  if (!m) return () => false;
  const patterns = m[1]!
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  // asked for every column of every row: answer each annotation name once
  const answers = new Map<string, boolean>();
  return (name) => {
    let yes = answers.get(name);
    if (yes === undefined) {
      yes = patterns.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : p === name));
      answers.set(name, yes);
    }
    return yes;
  };
}

export const etagOf = (row: Row) => `W/"${row.versionnumber}"`;

/** A resolved $select entry: the output property name and the attribute behind it. */
interface Column {
  key: string;
  attr: AttributeDef;
  lookup: boolean;
}

export function resolveSelect(env: QueryEnv, entity: EntityDef, select: string[] | undefined): Column[] {
  const cols: Column[] = [];
  if (!select) {
    for (const a of entity.attributes) {
      if (isLookup(a)) cols.push({ key: `_${a.logicalName}_value`, attr: a, lookup: true });
      else cols.push({ key: a.logicalName, attr: a, lookup: false });
    }
    return cols;
  }
  const seen = new Set<string>();
  const add = (c: Column) => {
    if (!seen.has(c.key)) {
      seen.add(c.key);
      cols.push(c);
    }
  };
  for (const name of select) {
    if (name === '*') return resolveSelect(env, entity, undefined);
    const lookup = env.schema.lookupFromValueName(entity, name);
    if (lookup) {
      add({ key: name, attr: lookup, lookup: true });
      continue;
    }
    const a = env.schema.attribute(entity, name);
    // SELECT: single-valued navigation properties (and lookups by their own name) cannot be selected
    if (!a || isLookup(a)) throw unknownProperty(name, entity.logicalName);
    add({ key: name, attr: a, lookup: false });
  }
  // SELECT: selecting a money column also returns _transactioncurrencyid_value
  if (cols.some((c) => c.attr.type === 'Money')) {
    const cur = env.schema.attribute(entity, 'transactioncurrencyid');
    if (cur) add({ key: '_transactioncurrencyid_value', attr: cur, lookup: true });
  }
  return cols;
}

export interface ShapeContext {
  env: QueryEnv;
  annotations: AnnotationFilter;
  /** the service root, e.g. https://127.0.0.1:5555/api/data/v9.2 */
  serviceRoot: string;
  /** whether collection-valued expansions get a `<nav>@odata.nextLink` (collection GETs, not single-record GETs) */
  expandLinks: boolean;
  maxPageSize?: number;
}

function navFor(attr: AttributeDef, ref: Value): string {
  if (attr.type === 'Customer' && isLookupRef(ref)) return `${attr.logicalName}_${ref.entity}`;
  return attr.logicalName;
}

/** Writes one row as the Web API does: etag first, selected columns, lookup annotations, the key last. */
export function shapeRow(
  ctx: ShapeContext,
  entity: EntityDef,
  row: Row,
  columns: Column[],
  expand: ExpandItem[] | undefined,
  withEtag: boolean,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const { annotations, env } = ctx;
  const formatted = annotations(FORMATTED);
  if (withEtag) out['@odata.etag'] = etagOf(row);
  for (const c of columns) {
    const v = c.attr.validForRead ? (row[c.attr.logicalName] ?? null) : null;
    if (c.lookup) {
      if (isLookupRef(v)) {
        if (formatted) {
          const name = env.relatedName(v);
          if (name !== undefined) out[`${c.key}@${FORMATTED}`] = name;
        }
        if (annotations(NAVPROP)) out[`${c.key}@${NAVPROP}`] = navFor(c.attr, v);
        if (annotations(LOGICAL)) out[`${c.key}@${LOGICAL}`] = v.entity;
        out[c.key] = v.id;
      } else out[c.key] = null;
      continue;
    }
    if (formatted) {
      const f = formatValue(c.attr, v);
      if (f !== undefined) out[`${c.key}@${FORMATTED}`] = f;
    }
    out[c.key] = v;
  }
  const pk = entity.primaryIdAttribute;
  if (!(pk in out)) out[pk] = row[pk];
  // JOIN: expanded systemuser rows also return ownerid (= systemuserid)
  if (entity.logicalName === 'systemuser' && !withEtag) out.ownerid = row[pk];
  if (expand) for (const item of expand) expandInto(ctx, entity, row, item, out);
  return out;
}

function expandInto(
  ctx: ShapeContext,
  entity: EntityDef,
  row: Row,
  item: ExpandItem,
  out: Record<string, unknown>,
): void {
  const { env } = ctx;
  const single = entity.manyToOne.find((m) => m.navigationProperty === item.property);
  if (single) {
    if (item.filter || item.orderBy || item.top !== undefined)
      throw new DataverseError(
        400,
        '0x80060888',
        'Only $select and $filter clause can be provided while doing $expand on many-to-one relationship or nested one-to-many relationship.',
      );
    if (single.target === PRINCIPAL) {
      // the owner's type is principal, whose one property is ownerid: any other is refused as on a filter
      // (GUESS: the owner expanded is its id and derived type only; Microsoft documents no example)
      const other = item.select?.find((c) => c.toLowerCase() !== 'ownerid');
      if (other || item.expand?.length || item.ref) throw unknownProperty(other ?? item.property, 'principal');
      const v = row[single.attribute];
      out[item.property] = isLookupRef(v)
        ? { '@odata.type': `#Microsoft.Dynamics.CRM.${v.entity}`, ownerid: v.id }
        : null;
      return;
    }
    const target = env.schema.entity(single.target)!;
    const related = env.related(row[single.attribute], single.target);
    if (item.ref) {
      // JOIN: /$ref on a single-valued expand returns {"@odata.id": …} and adds _x_value
      out[`_${single.attribute}_value`] = related ? related[target.primaryIdAttribute] : null;
      out[item.property] = related
        ? { '@odata.id': `${ctx.serviceRoot}/${target.entitySetName}(${related[target.primaryIdAttribute]})` }
        : null;
      return;
    }
    out[item.property] = related
      ? shapeRow(ctx, target, related, resolveSelect(env, target, item.select), item.expand, false)
      : null;
    return;
  }
  const many = entity.oneToMany.find((m) => m.navigationProperty === item.property);
  if (!many) throw unknownProperty(item.property, entity.logicalName);
  if (item.ref)
    throw new DataverseError(
      400,
      '0x80060888',
      'Expand with $ref is only supported on lookup type navigation property.',
    );
  const nested = !!item.expand?.length;
  if (nested && (item.orderBy || item.top !== undefined))
    throw new DataverseError(
      400,
      '0x80060888',
      'Only $select and $filter clause can be provided while doing $expand on many-to-one relationship or nested one-to-many relationship.',
    );
  const child = env.schema.entity(many.referencingEntity)!;
  const parentId = String(row[entity.primaryIdAttribute]);
  let kids = env.listOf(many, child, parentId);
  if (item.filter) {
    const pred = compileFilter(env.schema, env.aliases, item.filter, child);
    kids = kids.filter((k) => pred(k, env));
  }
  kids = [...kids].sort((a, b) =>
    String(a[child.primaryIdAttribute]).localeCompare(String(b[child.primaryIdAttribute])),
  );
  if (item.orderBy) kids = sortRows(env, child, kids, item.orderBy);
  // JOIN: single-level collection expands are not paged (up to 5,000 each); with a nested $expand,
  // odata.maxpagesize applies to each expanded collection.
  const limit = nested && ctx.maxPageSize ? ctx.maxPageSize : 5000;
  const top = item.top !== undefined ? Math.min(item.top, limit) : limit;
  const page = kids.slice(0, top);
  const cols = resolveSelect(env, child, item.select);
  out[item.property] = page.map((k) => shapeRow(ctx, child, k, cols, item.expand, !nested));
  if (ctx.expandLinks) {
    const opts: string[] = [];
    if (item.select) opts.push(`$select=${item.select.join(',')}`);
    if (item.filter) opts.push(`$filter=${filterToOData(item.filter)}`);
    if (item.orderBy) opts.push(`$orderby=${orderByToOData(item.orderBy)}`);
    if (item.expand) opts.push(`$expand=${expandToOData(item.expand)}`);
    out[`${item.property}@odata.nextLink`] =
      `${ctx.serviceRoot}/${entity.entitySetName}(${parentId})/${item.property}${opts.length ? `?${opts.join('&')}` : ''}`;
  }
}

/** Sort key for one order-by path: lookups sort by the related row's primary name (ORDER). */
export function sortKeyGetter(
  env: QueryEnv,
  entity: EntityDef,
  path: string[],
): (row: Row) => string | number | boolean | null {
  if (path.length !== 1) throw badRequest(`$orderby on the navigation path '${path.join('/')}' is not supported.`);
  const name = path[0]!;
  const lookup = env.schema.lookupFromValueName(entity, name);
  if (lookup) {
    const named = (row: Row) => env.relatedName(row[lookup.logicalName]);
    return (row) => {
      const name = named(row);
      return name === null || name === undefined ? null : foldText(name);
    };
  }
  const a = env.schema.attribute(entity, name);
  if (!a || isLookup(a)) throw unknownProperty(name, entity.logicalName);
  if (a.type === 'String' || a.type === 'Memo')
    return (row) => {
      const text = row[name] as string | null | undefined;
      return text === null || text === undefined ? null : foldText(text);
    };
  if (a.type === 'Uniqueidentifier')
    return (row) => (row[name] === null || row[name] === undefined ? null : guidKey(String(row[name])));
  return (row) => (row[name] as number | boolean | string | null) ?? null;
}

type SortKey = string | number | boolean | null;

/** One $orderby value against another: SQL Server puts NULL first when ascending. */
export function compareKey(x: SortKey, y: SortKey, desc: boolean): number {
  if (x === y) return 0;
  const c = x === null ? -1 : y === null ? 1 : x < y ? -1 : 1;
  return desc ? -c : c;
}

export function compareKeys(a: SortKey[], b: SortKey[], desc: boolean[]): number {
  for (let i = 0; i < a.length; i++) {
    const c = compareKey(a[i]!, b[i]!, desc[i]!);
    if (c !== 0) return c;
  }
  return 0;
}

export function sortRows(
  env: QueryEnv,
  entity: EntityDef,
  rows: Row[],
  orderBy: { path: string[]; descending: boolean }[],
): Row[] {
  const getters = orderBy.map((o) => sortKeyGetter(env, entity, o.path));
  const desc = orderBy.map((o) => o.descending);
  const keyed = rows.map((r) => ({ r, k: getters.map((g) => g(r)) }));
  keyed.sort((a, b) => compareKeys(a.k, b.k, desc));
  return keyed.map((x) => x.r);
}
