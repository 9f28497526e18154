import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Condition } from '../../src/dynamics/conditions.js';
import { fromSqlOrder, keySpans, type Span, spanCondition, sqlOrder } from '../../src/dynamics/key-ranges.js';
import { RecordIds } from '../../src/emulator/store/ids.js';
import { compareGuids } from '../../src/emulator/store/store.js';

/** Which of the spans an id falls in, read the way Dataverse compares keys (SQL Server's order). */
function rangeOf(spans: Span[], id: string): number[] {
  const holds = (c: Condition | undefined): boolean => {
    if (!c) return true;
    if ('and' in c) return c.and.every(holds);
    if (!('op' in c)) throw new Error('unexpected condition');
    const cmp = compareGuids(id, String(c.value));
    return c.op === 'ge' ? cmp >= 0 : c.op === 'gt' ? cmp > 0 : cmp < 0;
  };
  return spans.flatMap((s, i) => (holds(spanCondition('accountid', s)) ? [i] : []));
}

describe('key ranges for reading a table side by side', () => {
  it('sqlOrder ranks ids as SQL Server does, and fromSqlOrder gives the id back', () => {
    const ids = Array.from({ length: 500 }, () => randomUUID());
    for (const id of ids) expect(fromSqlOrder(sqlOrder(id))).toBe(id);
    const bySql = [...ids].sort((a, b) => (sqlOrder(a) < sqlOrder(b) ? -1 : 1));
    expect(bySql).toEqual([...ids].sort(compareGuids));
  });

  it('ids the platform assigns (sequential, sharing their last groups) are cut into near-equal thirds', () => {
    const gen = new RecordIds();
    const ids = Array.from({ length: 9_000 }, () => gen.next(randomUUID()));
    const ranges = keySpans(3, { first: ids[0]!, last: ids.at(-1)! });
    const sizes = [0, 0, 0];
    for (const id of ids) {
      const hit = rangeOf(ranges, id);
      expect(hit).toHaveLength(1); // every id in exactly one range
      sizes[hit[0]!]!++;
    }
    for (const n of sizes) expect(n).toBeGreaterThan(2_900);
  });

  it('random ids spread over all ranges too, and ids beyond the ends found still fall in a range', () => {
    const ids = Array.from({ length: 3_000 }, () => randomUUID()).sort(compareGuids);
    const ranges = keySpans(4, { first: ids[1]!, last: ids.at(-2)! });
    const sizes = [0, 0, 0, 0];
    for (const id of ids) sizes[rangeOf(ranges, id)[0]!]!++;
    for (const n of sizes) expect(n).toBeGreaterThan(600);
    expect(rangeOf(ranges, ids[0]!)).toEqual([0]);
    expect(rangeOf(ranges, ids.at(-1)!)).toEqual([3]);
  });

  it('one row, or ends too close to cut, is one read (no ranges)', () => {
    const id = randomUUID();
    expect(keySpans(3, { first: id, last: id })).toEqual([]);
    const next = fromSqlOrder(sqlOrder(id) + 2n);
    expect(keySpans(3, { first: id, last: next })).toEqual([]);
  });
});
