/**
 * The queries of cursors handed out lately, by the query's fingerprint: a cursor passed on its own (as models
 * often pass it) continues the query it came from. Most recent last; the oldest go past the bounds (a
 * forgotten query only means passing the arguments again). Bounded in characters as well as in number: a
 * query's in-lists can be long, and hosted, callers are many. One query may take a hundredth of the
 * characters; a longer one is not kept.
 */
export class RememberedQueries<T> {
  private readonly byPrint = new Map<string, { query: T; size: number }>();
  private chars = 0;

  constructor(
    private readonly maxQueries = 1_000,
    private readonly maxChars = 4_000_000,
  ) {}

  get(print: string): T | undefined {
    return this.byPrint.get(print)?.query;
  }

  remember(print: string, query: T): void {
    const old = this.byPrint.get(print);
    if (old) {
      this.byPrint.delete(print);
      this.chars -= old.size;
    }
    const size = JSON.stringify(query).length;
    if (size <= this.maxChars / 100) {
      this.byPrint.set(print, { query, size });
      this.chars += size;
    }
    for (const [key, q] of this.byPrint) {
      if (this.byPrint.size <= this.maxQueries && this.chars <= this.maxChars) break;
      this.byPrint.delete(key);
      this.chars -= q.size;
    }
  }
}
