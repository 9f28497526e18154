import type { Condition } from './conditions.js';

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
 * Up to `parts` key ranges that together cover every GUID once, cut evenly between the first and the last
 * key the table holds (in SQL Server's order). Cutting the whole GUID space instead works for random ids
 * only: the ids Dataverse assigns are sequential and share their most significant groups, so they would
 * all fall in one range and the read would not go side by side at all. Rows created after the ends were
 * found still fall in the first or last range, which are open. One range (no condition) when the ends are
 * too close to cut.
 */
export function keyRanges(key: string, parts: number, ends: { first: string; last: string }): Condition[] {
  const lo = sqlOrder(ends.first);
  const hi = sqlOrder(ends.last);
  const n = BigInt(parts);
  if (parts < 2 || hi - lo < n) return [];
  const cut = (i: number) => fromSqlOrder(lo + ((hi - lo) * BigInt(i)) / n);
  return Array.from({ length: parts }, (_, i): Condition => {
    const lower: Condition = { column: key, op: 'ge', value: cut(i) };
    const upper: Condition = { column: key, op: 'lt', value: cut(i + 1) };
    if (i === 0) return upper;
    if (i === parts - 1) return lower;
    return { and: [lower, upper] };
  });
}
