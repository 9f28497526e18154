/**
 * Runs `fn` over `items`, at most `n` at a time, in order of starting. A failure stops new starts (the calls
 * in flight finish) and is thrown once they have: a call that has failed asks Dynamics for nothing more.
 * `fn` that answers its own failures (returns instead of throwing) has every item run.
 */
export async function atMost<T>(n: number, items: readonly T[], fn: (item: T, index: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        try {
          await fn(items[index]!, index);
        } catch (err) {
          next = items.length;
          throw err;
        }
      }
    }),
  );
}
