import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RecordIds } from '../../src/emulator/store/ids.js';
import { compareGuids, guidKey } from '../../src/emulator/store/store.js';

// SQL Server (Dataverse's store) orders uniqueidentifier by byte groups, last six bytes first:
// https://learn.microsoft.com/dotnet/framework/data/adonet/sql/comparing-guid-and-uniqueidentifier-values
describe('emulator GUID order follows SQL Server uniqueidentifier', () => {
  const sorted = (ids: string[]) => [...ids].sort((a, b) => (guidKey(a) < guidKey(b) ? -1 : 1));

  it("sorts the documentation's example the way SqlGuid does, by the last six bytes", () => {
    const a = '3aaaaaaa-bbbb-cccc-dddd-2eeeeeeeeeee';
    const b = '2aaaaaaa-bbbb-cccc-dddd-1eeeeeeeeeee';
    const c = '1aaaaaaa-bbbb-cccc-dddd-3eeeeeeeeeee';
    expect(sorted([a, b, c])).toEqual([b, a, c]);
  });

  it('the last six bytes outrank everything before them', () => {
    const a = 'ffffffff-ffff-ffff-ffff-000000000001';
    const b = '00000000-0000-0000-0000-000000000002';
    expect(sorted([b, a])).toEqual([a, b]);
  });

  it('then bytes 8-9, then 6-7, then 4-5, then 0-3; each of the first three groups little-endian', () => {
    const ids = [
      '01000000-0000-0000-0000-000000000000',
      '00000000-0100-0000-0000-000000000000',
      '00000000-0000-0100-0000-000000000000',
      '00000000-0000-0000-0100-000000000000',
      '00000001-0000-0000-0000-000000000000',
    ];
    // '01000000' is stored 00 00 00 01 and '00000001' is stored 01 00 00 00, so the former sorts first
    expect(sorted([...ids].reverse())).toEqual([ids[0], ids[4], ids[1], ids[2], ids[3]]);
  });

  it('case does not matter', () => {
    expect(guidKey('ABCDEF01-2345-6789-ABCD-EF0123456789')).toBe(guidKey('abcdef01-2345-6789-abcd-ef0123456789'));
  });

  it('compareGuids (used to break ties in ordered queries) puts ids in the same order as guidKey', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => (i % 3 ? randomUUID() : randomUUID().toUpperCase()));
    // near-duplicates differing in one byte group each, where a wrong group order would show
    ids.push(
      '00000000-0000-0000-0000-000000000001',
      '00000001-0000-0000-0000-000000000000',
      '00000000-0001-0000-0000-000000000000',
    );
    const byCompare = [...ids].sort(compareGuids);
    expect(byCompare).toEqual(sorted(ids));
    expect(compareGuids('ABCDEF01-2345-6789-ABCD-EF0123456789', 'abcdef01-2345-6789-abcd-ef0123456789')).toBe(0);
  });
});

// Microsoft's Power Pages Web API docs (read-operations) show two accounts made one after the other:
// d2e11ba8-92f6-eb11-94ef-000d3a5aa607 and d4e11ba8-92f6-eb11-94ef-000d3a5aa607
describe('record ids the emulator assigns look and sort like the platform ids', () => {
  it('the first group counts up from its first byte, the rest stays, and the order is SQL Server order', () => {
    const gen = new RecordIds();
    const ids = Array.from({ length: 5_000 }, () => gen.next(randomUUID()));
    expect(ids[0]).toMatch(/^d2e11ba8-/);
    expect(new Set(ids.map((id) => id.slice(8))).size).toBe(1);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort(compareGuids)).toEqual(ids);
    // compared as text they are not in order: the first byte wraps every ~100 ids
    expect([...ids].sort()).not.toEqual(ids);
  });
});
