import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Condition } from '../../src/dynamics/conditions.js';
import { fromSqlOrder, keySpans, sqlOrder } from '../../src/dynamics/key-ranges.js';
import { readSpans, type SpanIo } from '../../src/dynamics/span-reads.js';
import { RecordIds } from '../../src/emulator/store/ids.js';
import { compareGuids } from '../../src/emulator/store/store.js';

// The scheduler on its own, over a table held in memory: what the Web API does for it (pages of a key
// range in key order, a one-row read of the last key) is tested against the emulator in client-query.

const holds = (c: Condition | undefined, id: string): boolean => {
  if (!c) return true;
  if ('and' in c) return c.and.every((x) => holds(x, id));
  if (!('op' in c)) throw new Error('unexpected condition');
  const cmp = compareGuids(id, String(c.value));
  return c.op === 'ge' ? cmp >= 0 : c.op === 'gt' ? cmp > 0 : cmp < 0;
};

function table(ids: string[], pageSize: number, order: 'key' | 'pages reversed' = 'key') {
  const sorted = [...ids].sort(compareGuids);
  const readers: number[][] = []; // rows each read handed over, by read
  let probes = 0;
  let asked = 0; // pages asked of the "server" (requests sent)
  const io: SpanIo = {
    key: 'id',
    ends: { first: sorted[0]!, last: sorted.at(-1)! },
    async *read(range, signal) {
      const mine: number[] = [];
      readers.push(mine);
      const rows = sorted.filter((id) => holds(range, id));
      if (order === 'pages reversed') rows.reverse();
      asked++;
      for (let i = 0; i < rows.length; i += pageSize) {
        await new Promise((r) => setImmediate(r)); // a page takes a turn of the event loop
        if (signal?.aborted) return; // its request was cancelled: the page never arrives
        // the next page is asked for as this one arrives, as followPages does
        if (i + pageSize < rows.length) asked++;
        mine.push(Math.min(pageSize, rows.length - i));
        yield rows.slice(i, i + pageSize).map((id) => ({ id }));
      }
    },
    async lastKey(range) {
      probes++;
      return sorted.filter((id) => holds(range, id)).at(-1);
    },
  };
  return { io, sorted, readers, probes: () => probes, asked: () => asked };
}

async function readAll(io: SpanIo, parts: number, stopAfter = Number.POSITIVE_INFINITY): Promise<string[]> {
  const seen: string[] = [];
  for await (const rows of readSpans(io, keySpans(parts, io.ends), 4 * parts)) {
    seen.push(...rows.map((r) => String(r.id)));
    if (seen.length >= stopAfter) break;
  }
  return seen;
}

describe('reading spans side by side', () => {
  it('every row exactly once, whatever the ids look like (random, sequential, clustered, mixed)', async () => {
    const idsArb = fc
      .record({
        random: fc.integer({ min: 0, max: 120 }),
        clusters: fc.array(fc.integer({ min: 1, max: 150 }), { maxLength: 3 }),
      })
      .map(({ random, clusters }) => {
        const ids: string[] = Array.from({ length: random }, () => randomUUID());
        for (const size of clusters) {
          // a run of sequential ids from one place in the key order
          const base = sqlOrder(randomUUID());
          for (let i = 0; i < size; i++) ids.push(fromSqlOrder(base + BigInt(i * 7919)));
        }
        return ids;
      })
      .filter((ids) => ids.length >= 2);
    await fc.assert(
      fc.asyncProperty(
        idsArb,
        fc.integer({ min: 1, max: 25 }),
        fc.integer({ min: 2, max: 5 }),
        async (ids, page, n) => {
          const t = table(ids, page);
          const seen = await readAll(t.io, n);
          expect(seen.sort(compareGuids)).toEqual(t.sorted);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a cluster beside a few outliers is shared out among the readers, not read by one', async () => {
    const gen = new RecordIds();
    // ids from a fixed sequence of steps: the splits, and the pages they leave unused, are the same each run
    const cluster = Array.from({ length: 600 }, (_, i) => gen.next(((i * 7) % 16).toString(16)));
    // a few records with ids of their own, spread over the whole key order: the ends are far apart
    const ids = [...cluster, '00000000-0000-0000-0000-000000000001', 'ffffffff-ffff-ffff-ffff-fffffffffff0'];
    const t = table(ids, 20);
    const seen: string[] = [];
    let pages = 0;
    for await (const rows of readSpans(t.io, keySpans(3, t.io.ends), 12)) {
      seen.push(...rows.map((r) => String(r.id)));
      pages++;
    }
    expect(seen.sort(compareGuids)).toEqual(t.sorted);
    // cut between the ends alone, one reader would hand over all 600 clustered rows
    const biggest = Math.max(...t.readers.map((r) => r.reduce((a, b) => a + b, 0)));
    expect(biggest).toBeLessThanOrEqual(400);
    expect(t.probes()).toBeGreaterThan(0);
    expect(t.probes()).toBeLessThanOrEqual(12);
    // a split span's page in flight is cancelled, and its reader asks for nothing more: with these ids, no more
    // pages are asked for and left unused than splits were probed (left running, each retired reader asked
    // for the page after the one it had out: 11 pages here, against 6 probes)
    expect(t.asked() - pages).toBeLessThanOrEqual(t.probes());
  });

  it('a server whose pages are not in key order is never split, so no row is lost', async () => {
    const gen = new RecordIds();
    const cluster = Array.from({ length: 300 }, () => gen.next(randomUUID()));
    const ids = [...cluster, '00000000-0000-0000-0000-000000000001', 'ffffffff-ffff-ffff-ffff-fffffffffff0'];
    const t = table(ids, 20, 'pages reversed');
    expect((await readAll(t.io, 3)).sort(compareGuids)).toEqual(t.sorted);
    expect(t.probes()).toBe(0);
  });

  it('evenly spread ids are not split at the end of the read (a split would cost more than it saves)', async () => {
    const gen = new RecordIds();
    const t = table(
      Array.from({ length: 900 }, () => gen.next(randomUUID())),
      50,
    );
    await readAll(t.io, 3);
    expect(t.probes()).toBe(0);
    expect(t.readers).toHaveLength(3);
  });

  it('stopping early stops every reader', async () => {
    const t = table(
      Array.from({ length: 300 }, () => randomUUID()),
      10,
    );
    const seen = await readAll(t.io, 3, 25);
    expect(seen.length).toBeLessThan(300);
    const handed = t.readers.flat().reduce((a, b) => a + b, 0);
    await new Promise((r) => setTimeout(r, 20));
    // at most the page each reader was working on when the read stopped, then nothing
    expect(t.readers.flat().reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(handed + 3 * 10);
    const after = t.readers.flat().reduce((a, b) => a + b, 0);
    await new Promise((r) => setTimeout(r, 20));
    expect(t.readers.flat().reduce((a, b) => a + b, 0)).toBe(after);
  });
});
