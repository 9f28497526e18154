import { describe, expect, it } from 'vitest';
import { RecordIdMaker } from '../../src/dynamics/record-ids.js';
import { compareGuids } from '../../src/emulator/store/store.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('ids for the records the server creates', () => {
  it('rise in SQL Server order, also past 16,384 in one millisecond and when the clock steps back', () => {
    let now = 1_800_000_000_000;
    const maker = new RecordIdMaker(() => now);
    const ids: string[] = [];
    for (let i = 0; i < 40_000; i++) ids.push(maker.next()); // one frozen millisecond
    now -= 5_000; // the clock set back
    for (let i = 0; i < 10; i++) ids.push(maker.next());
    now += 60_000;
    for (let i = 0; i < 10; i++) ids.push(maker.next());
    for (const id of ids) expect(id).toMatch(GUID);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort(compareGuids)).toEqual(ids);
  });

  it('two makers at the same moment (two replicas) make different ids', () => {
    const a = new RecordIdMaker(() => 1_800_000_000_000);
    const b = new RecordIdMaker(() => 1_800_000_000_000);
    const ids = new Set(Array.from({ length: 1_000 }, (_, i) => (i % 2 ? a : b).next()));
    expect(ids.size).toBe(1_000);
  });
});
