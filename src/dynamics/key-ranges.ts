import type { Condition } from './conditions.js';

/** A GUID as Dataverse writes keys (hex digits in 8-4-4-4-12), the only kind of key the ranges can cut. */
export const isGuid = (v: unknown): v is string =>
  typeof v === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);

/**
 * A GUID as a number in SQL Server's uniqueidentifier order (Dataverse's store, and so the order of
 * `$orderby=<key>` and of `ge`/`lt` on a key): the last group is the most significant, then the fourth,
 * then the third, second and first groups with their bytes reversed.
 */
export function sqlOrder(id: string): bigint {
  const g = id.toLowerCase().replace(/[{}]/g, '');
  const hex =
    g.slice(24, 36) +
    g.slice(19, 23) +
    g.slice(16, 18) +
    g.slice(14, 16) +
    g.slice(11, 13) +
    g.slice(9, 11) +
    g.slice(6, 8) +
    g.slice(4, 6) +
    g.slice(2, 4) +
    g.slice(0, 2);
  return BigInt(`0x${hex}`);
}

/** The GUID at a place in SQL Server's order (sqlOrder's inverse). */
export function fromSqlOrder(n: bigint): string {
  const k = n.toString(16).padStart(32, '0');
  const b = (i: number) => k.slice(i, i + 2);
  return `${b(30)}${b(28)}${b(26)}${b(24)}-${b(22)}${b(20)}-${b(18)}${b(16)}-${k.slice(12, 16)}-${k.slice(0, 12)}`;
}

/**
 * A stretch of the key order: from `from` (inclusive, or after it when `after`) up to `to` (exclusive).
 * An end left out is open.
 */
export interface Span {
  from?: string;
  after?: boolean;
  to?: string;
}

/** The condition that holds for the rows of a span (undefined: the whole table). */
export function spanCondition(key: string, s: Span): Condition | undefined {
  const lower: Condition | undefined = s.from ? { column: key, op: s.after ? 'gt' : 'ge', value: s.from } : undefined;
  const upper: Condition | undefined = s.to ? { column: key, op: 'lt', value: s.to } : undefined;
  return lower && upper ? { and: [lower, upper] } : (lower ?? upper);
}

/**
 * Up to `parts` spans that together cover every GUID once, cut evenly between the first and the last key
 * the table holds (in SQL Server's order). Cutting the whole GUID space instead works for random ids only:
 * the ids Dataverse assigns are sequential and share their most significant groups, so they would all fall
 * in one span and the read would not go side by side at all. The first and last spans stay open, so rows
 * created after the ends were found are still read. None when the ends are too close to cut.
 */
export function keySpans(parts: number, ends: { first: string; last: string }): Span[] {
  const lo = sqlOrder(ends.first);
  const hi = sqlOrder(ends.last);
  const n = BigInt(parts);
  if (parts < 2 || hi - lo < n) return [];
  const cut = (i: number) => fromSqlOrder(lo + ((hi - lo) * BigInt(i)) / n);
  return Array.from(
    { length: parts },
    (_, i): Span => ({
      from: i === 0 ? undefined : cut(i),
      to: i === parts - 1 ? undefined : cut(i + 1),
    }),
  );
}
