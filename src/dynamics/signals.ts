import { getMaxListeners, setMaxListeners } from 'node:events';
import { sameCall } from './waits.js';

const SIDE_BY_SIDE = 100;

/**
 * A call's signal about to guard many requests side by side (a name looked for in every table), each
 * listening on it until it ends: more than Node's 10 listeners is no leak there, and the warning would reach
 * stderr. Raised where the fan-out is, not for every request (an ordinary call makes one or two).
 */
export function sideBySide(signal: AbortSignal | undefined): void {
  if (signal && getMaxListeners(signal) < SIDE_BY_SIDE) setMaxListeners(SIDE_BY_SIDE, signal);
}

/**
 * A signal that aborts when `parent` does, or after `ms`, and is released with done() once the work it
 * guards has ended. AbortSignal.any and AbortSignal.timeout do the same, but on Node 20 each composite
 * stays attached to a long-lived parent (a whole paged read) until that parent is collected
 * (nodejs/node#55351, #54614), and a timeout signal's timer runs its full course even when the request
 * ended after a millisecond.
 */
export function linkedSignal(
  parent: AbortSignal | undefined,
  ms?: number,
): { signal: AbortSignal; abort(): void; done(): void } {
  const ac = new AbortController();
  sameCall(parent, ac.signal);
  if (parent?.aborted) {
    ac.abort(parent.reason);
    return { signal: ac.signal, abort: () => {}, done: () => {} };
  }
  const onAbort = () => ac.abort(parent?.reason);
  parent?.addEventListener('abort', onAbort, { once: true });
  const timer =
    ms === undefined
      ? undefined
      : setTimeout(() => ac.abort(new DOMException('The operation timed out.', 'TimeoutError')), ms);
  timer?.unref();
  return {
    signal: ac.signal,
    /** aborts this signal alone (the parent is not touched) */
    abort: () => ac.abort(),
    done() {
      if (timer) clearTimeout(timer);
      parent?.removeEventListener('abort', onAbort);
    },
  };
}

/**
 * A shared piece of work (a token being fetched, a table's metadata being read), waited for by one caller: its
 * signal ends that caller's wait (rejecting with `ended()`, by default the signal's reason), never the work,
 * which other callers may be waiting on too. The listener goes when the work settles.
 */
export function waitedFor<T>(
  shared: Promise<T>,
  signal: AbortSignal | undefined,
  ended: () => unknown = () => signal?.reason,
): Promise<T> {
  if (!signal) return shared;
  if (signal.aborted) return Promise.reject(ended());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(ended());
    signal.addEventListener('abort', onAbort, { once: true });
    shared.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
