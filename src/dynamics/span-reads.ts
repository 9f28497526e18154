import type { Condition } from './conditions.js';
import { fromSqlOrder, isGuid, type Span, spanCondition, sqlOrder } from './key-ranges.js';
import { linkedSignal } from './signals.js';

type Row = Record<string, unknown>;

/** What reading spans needs from the client: pages of a span in key order, and a span's last key. */
export interface SpanIo {
  /** the table's primary key: every row carries it */
  key: string;
  /** the first and last key of the whole read, where the spans were cut */
  ends: { first: string; last: string };
  /** `signal` aborts when the read of that span is dropped (split, stopped early, or failed elsewhere) */
  read(range: Condition | undefined, signal: AbortSignal): AsyncGenerator<Row[], void>;
  lastKey(range: Condition | undefined): Promise<string | undefined>;
}

interface Reading {
  span: Span;
  reader: AsyncGenerator<Row[], void>;
  /** cancels the page it has in flight, when the reading is dropped */
  stop: ReturnType<typeof linkedSignal>;
  /** the key of the last row handed over: every row up to it has been read */
  last?: string;
  pages: number;
  /** its rows did not come in key order, or without a key: it is never split */
  unsure?: boolean;
}

/**
 * Reads spans of the key order side by side, pages as they arrive, and keeps every reader busy: when a
 * span is done, the one with the most left is split in two at the middle of what remains (found with a
 * one-row read of its last key), and the free reader takes the upper half. Cutting between the table's
 * first and last key balances sequential or random ids, but not a table whose ids cluster (records the
 * platform made beside records imported or created elsewhere with ids of their own): then most spans end
 * at once and one holds the rest, which these splits share out again.
 *
 * Rows within a span come in key order, so a split never loses or repeats a row: the span keeps what it
 * handed over, and the halves start after its last row. A page the split span had asked for but not yet
 * handed over is cancelled (its request aborted, so its reader asks for nothing more) and read again by the
 * halves. Each reader asks for its next page only when the caller comes back for more, so memory stays at a
 * page or two per reader; stopping early or a failure in one reader ends them all, their requests aborted.
 * `signal`: the caller's, for every reader.
 */
export async function* readSpans(
  io: SpanIo,
  spans: Span[],
  maxSplits: number,
  signal?: AbortSignal,
): AsyncGenerator<Row[], void> {
  const active = new Map<number, Reading>();
  const pending = new Map<number, Promise<{ n: number; r: IteratorResult<Row[], void> }>>();
  let next = 0;
  const ask = (n: number) => {
    const p = active
      .get(n)!
      .reader.next()
      .then((r) => ({ n, r }));
    p.catch(() => {}); // observed by the race below, or dropped with the read
    pending.set(n, p);
  };
  const start = (span: Span) => {
    const n = next++;
    const stop = linkedSignal(signal);
    active.set(n, { span, reader: io.read(spanCondition(io.key, span), stop.signal), stop, pages: 0 });
    ask(n);
  };
  const retire = (n: number) => {
    const reading = active.get(n)!;
    active.delete(n);
    pending.delete(n);
    // the page it has in flight is cancelled now, not when it arrives (its reader would ask for the next one)
    reading.stop.abort();
    reading.stop.done();
    void reading.reader.return(undefined).catch(() => {});
  };
  const lo = sqlOrder(io.ends.first);
  const hi = sqlOrder(io.ends.last) + 1n;
  /** where a reading stands, where its span ends, and how much of the span it has read */
  const place = (a: Reading) => {
    const start = a.span.from ? sqlOrder(a.span.from) : lo;
    const from = a.last ? sqlOrder(a.last) : start;
    const to = a.span.to ? sqlOrder(a.span.to) : hi;
    return { from, to, done: to > start ? Number(from - start) / Number(to - start) : 1 };
  };
  /** Splits the reading with the most left; false when none is worth it. */
  const split = async (): Promise<boolean> => {
    let victim: number | undefined;
    let most = 2;
    for (const [n, a] of active) {
      // only a reading that has handed over pages shows how much it has left: k pages for a fraction f
      // of its span leave about k(1-f)/f; under two, a split (a probe, a page asked for again) costs more
      if (a.unsure || !a.pages) continue;
      const { done } = place(a);
      const left = done <= 0 ? Number.POSITIVE_INFINITY : (a.pages * (1 - done)) / done;
      if (left >= most) {
        most = left;
        victim = n;
      }
    }
    if (victim === undefined) return false;
    const v = active.get(victim)!;
    const rest: Span = v.last ? { from: v.last, after: true, to: v.span.to } : v.span;
    const lastId = await io.lastKey(spanCondition(io.key, rest));
    // the reading may have finished while the probe was out: then there is nothing to share
    if (!lastId || active.get(victim) !== v) return false;
    const from = place(v).from;
    const end = sqlOrder(lastId);
    if (end - from < 2n) return false;
    const mid = fromSqlOrder(from + (end - from + 1n) / 2n);
    retire(victim);
    start({ ...rest, to: mid });
    start({ from: mid, to: rest.to });
    return true;
  };

  for (const s of spans) start(s);
  const readers = spans.length;
  let splits = 0;
  /** a reader is free when its span is done: it takes half of another's when one has shown enough left */
  const share = async () => {
    while (active.size < readers && splits < maxSplits && (await split())) splits++;
  };
  try {
    while (pending.size) {
      const { n, r } = await Promise.race(pending.values());
      if (!pending.has(n)) continue; // a retired reading's page: its halves read those rows
      pending.delete(n);
      const reading = active.get(n)!;
      if (r.done) {
        reading.stop.done();
        active.delete(n);
        await share();
        continue;
      }
      const rows = r.value;
      if (rows.length) {
        // a split starts after the last row handed over, which holds only if the rows come in key order (as
        // Dataverse pages them: the paging cookie is the first and last key); the ends of each page are checked
        const first = rows[0]![io.key];
        const last = rows[rows.length - 1]![io.key];
        const key = (v: unknown) => (isGuid(v) ? sqlOrder(v) : undefined);
        const [a, b] = [key(first), key(last)];
        if (a === undefined || b === undefined || a > b || (reading.last && a <= sqlOrder(reading.last)))
          reading.unsure = true;
        else reading.last = last as string;
        reading.pages++;
      }
      yield rows;
      ask(n);
      await share();
    }
  } finally {
    // stopped early or failed: every reader left stops too (one waiting on a page stops once it arrives)
    for (const n of [...active.keys()]) retire(n);
  }
}
