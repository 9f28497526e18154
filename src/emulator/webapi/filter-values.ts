import type { Compare, Literal } from '../../odata/ast.js';
import type { ColumnReader } from '../store/column-reader.js';
import { compareGuids, guidKey, isLookupRef, type Row, type Value } from '../store/store.js';
import type { QueryEnv } from './env.js';

/**
 * The values a compiled filter compares (filter.ts): Edm families, the comparable form of a value, SQL LIKE,
 * and the comparison closures, specialised by type because V8 keeps type feedback per function literal.
 */

/** A compiled predicate or value getter; `vars` holds the rows bound by enclosing lambdas. */
export type Getter = (row: Row, env: QueryEnv, vars: Row[]) => Value | undefined;
export type Predicate = (row: Row, env: QueryEnv, vars?: Row[]) => boolean;

export type Family = 'string' | 'number' | 'boolean' | 'date' | 'guid' | 'null';

export function familyOf(edm: string): Family {
  if (edm === 'Edm.String') return 'string';
  if (edm === 'Edm.Boolean') return 'boolean';
  if (edm === 'Edm.Guid') return 'guid';
  if (edm === 'Edm.Date' || edm === 'Edm.DateTimeOffset') return 'date';
  return 'number';
}

export function literalEdm(l: Literal): string {
  switch (l.type) {
    case 'string':
      return 'Edm.String';
    case 'number':
      return Number.isInteger(l.value) ? 'Edm.Int32' : 'Edm.Decimal';
    case 'guid':
      return 'Edm.Guid';
    case 'date':
      return 'Edm.Date';
    case 'datetime':
      return 'Edm.DateTimeOffset';
    case 'boolean':
      return 'Edm.Boolean';
    case 'null':
      return 'null';
  }
}

/** Comparable form: strings and GUIDs case-insensitive (SQL collation), dates as epoch ms. */
// dates repeat across rows: parse each distinct text once (bounded, so a long run cannot grow it without end)
const parsedDates = new Map<string, number>();
function parseDate(v: string): number {
  let ms = parsedDates.get(v);
  if (ms === undefined) {
    ms = Date.parse(v.length === 10 ? `${v}T00:00:00Z` : v);
    if (parsedDates.size > 100_000) parsedDates.clear();
    parsedDates.set(v, ms);
  }
  return ms;
}

const NOT_ASCII = /[^\x00-\x7f]/;
const MARKS = /\p{M}/gu;
/**
 * Text as the organisation's collation compares it: "Language collations" gives English (1033), the demo
 * organisation's language, and most others _CI_AI, case- and accent-insensitive ("cafe" and "café" are the
 * same word), so "Siobhan" finds "Siobhán". Plain ASCII, most text, is only lower-cased.
 */
export function foldText(s: string): string {
  const lower = s.toLowerCase();
  return NOT_ASCII.test(lower) ? lower.normalize('NFD').replace(MARKS, '') : lower;
}

export function normalise(v: Value | undefined, family: Family): string | number | boolean | null {
  if (v === null || v === undefined) return null;
  if (isLookupRef(v)) return guidKey(v.id);
  switch (family) {
    case 'string':
      return foldText(String(v));
    case 'guid':
      // GUIDs compare in SQL Server's uniqueidentifier order (eq and ne are unaffected)
      return guidKey(String(v));
    case 'date':
      return typeof v === 'string' ? parseDate(v) : (v as number);
    default:
      return v as number | boolean;
  }
}

/** SQL LIKE (the documented wildcards % _ [] [^]) as an anchored, case-insensitive regular expression. */
export function likeToRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '%') out += '.*';
    else if (c === '_') out += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end === -1) {
        out += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith('^');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^' : ''}${body.replace(/[\\\]]/g, '\\$&')}]`;
      i = end;
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${out}$`, 'is');
}

export const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

export type Comparable = string | number | boolean | null;
export type Test = (v: Comparable) => boolean;
export type CompareOp = Compare['op'];
/** `literal op value` is `value flipped-op literal` */
export const FLIPPED: Record<CompareOp, CompareOp> = { eq: 'eq', ne: 'ne', gt: 'lt', ge: 'le', lt: 'gt', le: 'ge' };

// `value op literal`, one function per operator. Two copies on purpose: V8 keeps type feedback per
// function literal, and a comparison that has seen both numbers and strings is slow for both, so numbers
// (and dates as epoch ms) use one copy and text (strings, GUID keys, date-only text) the other. A filter
// over 50,000 rows runs each of these 50,000 times.
export const NUMBER_TESTS: Record<CompareOp, (k: Comparable) => Test> = {
  eq: (k) => (v) => v === k,
  ne: (k) => (v) => v !== k,
  gt: (k) => (v) => v !== null && k !== null && v > k,
  ge: (k) => (v) => v !== null && k !== null && v >= k,
  lt: (k) => (v) => v !== null && k !== null && v < k,
  le: (k) => (v) => v !== null && k !== null && v <= k,
};
// the deliberate second copy (see above): text only
export const TEXT_TESTS: Record<CompareOp, (k: Comparable) => Test> = {
  eq: (k) => (v) => v === k,
  ne: (k) => (v) => v !== k,
  gt: (k) => (v) => v !== null && k !== null && v > k,
  ge: (k) => (v) => v !== null && k !== null && v >= k,
  lt: (k) => (v) => v !== null && k !== null && v < k,
  le: (k) => (v) => v !== null && k !== null && v <= k,
};

// `value op literal` for GUIDs (ids and lookups) in uniqueidentifier order; null matches only ne
export const GUID_TESTS: Record<CompareOp, (k: string) => (v: Value | undefined) => boolean> = {
  eq: (k) => (v) => typeof v === 'string' && compareGuids(v, k) === 0,
  ne: (k) => (v) => typeof v !== 'string' || compareGuids(v, k) !== 0,
  gt: (k) => (v) => typeof v === 'string' && compareGuids(v, k) > 0,
  ge: (k) => (v) => typeof v === 'string' && compareGuids(v, k) >= 0,
  lt: (k) => (v) => typeof v === 'string' && compareGuids(v, k) < 0,
  le: (k) => (v) => typeof v === 'string' && compareGuids(v, k) <= 0,
};

// `row[column] op literal` for number columns (whole numbers, option sets, money), in one closure each
export const NUMBER_COLUMN_TESTS: Record<CompareOp, (read: ColumnReader, k: number | null) => Getter> = {
  eq: (read, k) => (row) => (read(row) ?? null) === k,
  ne: (read, k) => (row) => (read(row) ?? null) !== k,
  gt: (read, k) => (row) => {
    const v = read(row) as number | null | undefined;
    return v !== null && v !== undefined && k !== null && v > k;
  },
  ge: (read, k) => (row) => {
    const v = read(row) as number | null | undefined;
    return v !== null && v !== undefined && k !== null && v >= k;
  },
  lt: (read, k) => (row) => {
    const v = read(row) as number | null | undefined;
    return v !== null && v !== undefined && k !== null && v < k;
  },
  le: (read, k) => (row) => {
    const v = read(row) as number | null | undefined;
    return v !== null && v !== undefined && k !== null && v <= k;
  },
};
