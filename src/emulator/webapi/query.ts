import type { ExpandItem, Expr, OrderByItem } from '../../odata/ast.js';
import { isLookup } from '../schema/index.js';
import type { EntityDef } from '../schema/types.js';
import { compareGuids, type Row } from '../store/store.js';
import type { QueryEnv } from './env.js';
import { DataverseError } from './errors.js';
import { compileFilter, FLIPPED } from './filter.js';
import { type CookieKey, decodeSkipToken, type PagingCookie } from './paging.js';
import { compareKey, compareKeys, sortKeyGetter } from './shape.js';

export interface CollectionQuery {
  entity: EntityDef;
  filter?: Expr;
  orderBy?: OrderByItem[];
  top?: number;
  expand?: ExpandItem[];
  count: boolean;
  skipToken?: string;
  /** from `Prefer: odata.maxpagesize` */
  maxPageSize?: number;
  /** restricts the rows (filtered collections such as accounts(<id>)/contact_customer_accounts) */
  source?: Row[];
}

export interface CollectionResult {
  rows: Row[];
  count?: number;
  next?: PagingCookie;
}

/** PAGE: the default and maximum page size; COUNT: the count cap. */
export const MAX_PAGE = 5000;

type Key = string | number | boolean | null;

/** A row with its $orderby values and its id, the tie-breaker. */
interface Keyed {
  r: Row;
  k: Key[];
  id: string;
}

const invalidCookie = () =>
  new DataverseError(400, '0x8004112A', 'Invalid paging cookie: the $skiptoken was not issued for this query.');

function decodeKey(env: QueryEnv, entity: EntityDef, name: string, text: string | null): Key {
  if (text === null) return null;
  const a = env.schema.lookupFromValueName(entity, name) ? undefined : env.schema.attribute(entity, name);
  if (!a || isLookup(a) || ['String', 'Memo', 'Uniqueidentifier', 'DateTime'].includes(a.type)) return text;
  if (a.type === 'Boolean') return text === 'true';
  return Number(text);
}

export function runCollectionQuery(env: QueryEnv, q: CollectionQuery): CollectionResult {
  const { entity } = q;
  const table = env.store.table(entity.logicalName);
  const pred = q.filter ? compileFilter(env.schema, env.aliases, q.filter, entity) : null;
  const paged = q.maxPageSize !== undefined;
  // PAGE: "$top combined with Prefer: odata.maxpagesize: $top is ignored"
  const pageSize = paged ? Math.min(q.maxPageSize!, MAX_PAGE) : Math.min(q.top ?? MAX_PAGE, MAX_PAGE);
  const allowNext = paged || q.top === undefined;
  const pk = entity.primaryIdAttribute;
  const orderBy = q.orderBy ?? [];
  const cookie = q.skipToken !== undefined ? decodeSkipToken(q.skipToken) : undefined;
  if (cookie === null) throw invalidCookie();
  // the cookie writes GUIDs upper-case in braces (PAGE); rows hold them lower-case
  const cookieKeys = cookie?.keys.map((k) => (k.name === pk ? { ...k, last: k.last?.toLowerCase() ?? null } : k));
  if (cookieKeys) {
    const expected = [...orderBy.map((o) => o.path.join('/')), pk];
    if (cookieKeys.length !== expected.length || cookieKeys.some((k, i) => k.name !== expected[i]))
      throw invalidCookie();
  }
  let count: number | undefined;
  const result: CollectionResult = { rows: [] };

  if (orderBy.length === 0 && !q.source) {
    // Fast path: primary-key order straight off the sorted id list; a page costs a binary search.
    const ids = table.sortedIds();
    const rows = table.sortedRows();
    // an index seek: key bounds in the filter narrow the stretch of the key order that is read at all
    const { from, to, exact } = keyWindow(ids, q.filter, pk);
    // a filter of key bounds only is answered by the seek itself: every row in the window matches
    const test = exact ? null : pred;
    const start = Math.max(from, cookieKeys ? seek(ids, cookieKeys[0]!.last ?? '', true) : 0);
    const page: Row[] = [];
    for (let i = start; i < to && page.length <= pageSize; i++) {
      const row = rows[i]!;
      if (!test || test(row, env)) page.push(row);
    }
    if (q.count) {
      count = 0;
      for (let i = from; i < to; i++) if ((!test || test(rows[i]!, env)) && ++count > MAX_PAGE) break;
    }
    result.rows = page.slice(0, pageSize);
    if (page.length > pageSize && allowNext) result.next = nextCookie(cookie, result.rows, [], pk, []);
  } else {
    const getters = orderBy.map((o) => sortKeyGetter(env, entity, o.path));
    const desc = orderBy.map((o) => o.descending);
    // ties are broken by the primary key in SQL Server's uniqueidentifier order
    const cmp = (a: Keyed, b: Keyed) => compareKeys(a.k, b.k, desc) || compareGuids(a.id, b.id);
    // only rows strictly after the cookie's last row in this order can be on the page
    const after: Keyed | undefined = cookieKeys && {
      r: {},
      k: cookieKeys.slice(0, -1).map((k) => decodeKey(env, entity, k.name, k.last)),
      id: cookieKeys.at(-1)!.last ?? '',
    };
    const top = new SmallestK<Keyed>(pageSize + 1, cmp);
    let matched = 0;
    const firstKey = getters[0];
    // without $count, a row that cannot make the page is skipped before the filter is asked about it
    const boundFirst = !q.count && firstKey !== undefined;
    // ordered by the key alone, the rows come off the key order (the clustered index) in the page's own
    // order, so the read stops once the page is full: the first or last key of a large table is one seek
    const byKey = !q.source && orderBy.length === 1 && orderBy[0]!.path.length === 1 && orderBy[0]!.path[0] === pk;
    let taken = 0;
    for (const row of q.source ?? (byKey ? keyOrder(table.sortedRows(), desc[0]!) : table.rows.values())) {
      if (byKey && !q.count && taken > pageSize) break;
      if (boundFirst) {
        const worst = top.worst;
        if (worst && compareKey(firstKey(row), worst.k[0]!, desc[0]!) > 0) continue;
      }
      if (pred && !pred(row, env)) continue;
      matched++;
      // most rows already sort after the page's current last row on the first column: skip them unbuilt
      const worst = top.worst;
      if (!boundFirst && firstKey && worst && compareKey(firstKey(row), worst.k[0]!, desc[0]!) > 0) continue;
      const item = { r: row, k: getters.map((g) => g(row)), id: String(row[pk]) };
      if (after && cmp(item, after) <= 0) continue;
      top.push(item);
      taken++;
    }
    count = q.count ? matched : undefined;
    const page = top.result();
    result.rows = page.slice(0, pageSize).map((x) => x.r);
    if (page.length > pageSize && allowNext) {
      const names = orderBy.map((o) => o.path.join('/'));
      const firstK = page[0]!.k;
      const lastK = page[pageSize - 1]!.k;
      result.next = nextCookie(cookie, result.rows, names, pk, [firstK, lastK]);
    }
  }
  if (count !== undefined) result.count = Math.min(count, MAX_PAGE);
  return result;
}

function* keyOrder(rows: Row[], descending: boolean): Generator<Row> {
  if (!descending) yield* rows;
  else for (let i = rows.length - 1; i >= 0; i--) yield rows[i]!;
}

/** First index whose id sorts at or after (`strict`: after) `bound` in key order. */
function seek(ids: string[], bound: string, strict: boolean): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareGuids(ids[mid]!, bound);
    if (c < 0 || (strict && c === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The part of the key order a filter can match, from `<key> ge|gt|lt|le|eq <guid>` terms at the top of its
 * conjunction (how parallel readers split a table into key ranges). `exact` when those terms are the
 * whole filter, so the window is the answer; otherwise the filter still decides every row in it.
 */
function keyWindow(ids: string[], filter: Expr | undefined, pk: string): { from: number; to: number; exact: boolean } {
  let from = 0;
  let to = ids.length;
  const terms: Expr[] = [];
  const collect = (e: Expr) => (e.kind === 'and' ? e.operands.forEach(collect) : terms.push(e));
  if (filter) collect(filter);
  let used = 0;
  for (const t of terms) {
    if (t.kind !== 'compare') continue;
    const keyLeft = t.left.kind === 'path' && t.left.segments.length === 1 && t.left.segments[0] === pk;
    const keyRight = t.right.kind === 'path' && t.right.segments.length === 1 && t.right.segments[0] === pk;
    const literal = keyLeft ? t.right : keyRight ? t.left : undefined;
    if (literal?.kind !== 'literal' || literal.type !== 'guid') continue;
    const op = keyLeft ? t.op : FLIPPED[t.op];
    const g = String(literal.value);
    if (op === 'ge' || op === 'gt' || op === 'eq') from = Math.max(from, seek(ids, g, op === 'gt'));
    if (op === 'lt' || op === 'le' || op === 'eq') to = Math.min(to, seek(ids, g, op === 'le' || op === 'eq'));
    if (op === 'ge' || op === 'gt' || op === 'lt' || op === 'le' || op === 'eq') used++;
  }
  return { from, to: Math.max(from, to), exact: used > 0 && used === terms.length };
}

/**
 * The k smallest of a stream, in order, holding at most 2k items: a page of 5 from 50,000 rows costs a
 * pass with one comparison for most rows, instead of keeping and sorting them all.
 */
class SmallestK<T> {
  private items: T[] = [];
  /** the k-th smallest so far, once k are known: anything after it cannot make the cut */
  worst: T | undefined;

  constructor(
    private readonly k: number,
    private readonly cmp: (a: T, b: T) => number,
  ) {}

  push(item: T): void {
    // k items already sort at or before `worst`, so anything from there on cannot make the cut
    if (this.worst !== undefined && this.cmp(item, this.worst) >= 0) return;
    this.items.push(item);
    if (this.items.length >= 2 * this.k) {
      this.items.sort(this.cmp);
      this.items.length = this.k;
      this.worst = this.items[this.k - 1];
    }
  }

  result(): T[] {
    this.items.sort(this.cmp);
    if (this.items.length > this.k) this.items.length = this.k;
    return this.items;
  }
}

function nextCookie(
  current: PagingCookie | undefined,
  rows: Row[],
  orderNames: string[],
  pk: string,
  bounds: Key[][],
): PagingCookie {
  const keys: CookieKey[] = orderNames.map((name, i) => ({
    name,
    first: bounds[0]![i] === null ? null : String(bounds[0]![i]),
    last: bounds[1]![i] === null ? null : String(bounds[1]![i]),
  }));
  keys.push({ name: pk, first: String(rows[0]![pk]), last: String(rows[rows.length - 1]![pk]) });
  return { pageNumber: (current?.pageNumber ?? 1) + 1, keys };
}
