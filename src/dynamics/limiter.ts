import { reportWait } from './waits.js';

/**
 * Caps requests in flight (below Dataverse's 52 concurrent requests per user), and lower still when the
 * service says its window is nearly spent (x-ms-ratelimit-burst-remaining-xrm-requests): no more in flight
 * than the window has left, one when it has none. That one finds out, with the 429's Retry-After, when
 * the window frees, and the others wait for it rather than each earning a 429 of their own.
 */
export class RequestLimiter {
  private active = 0;
  private readonly waiters: (() => void)[] = [];
  /** how many may be in flight now: maxConcurrent, or what the service-protection window has left */
  private cap: number;
  /** the current 429 hold: when requests may start again, and which limit the service said was hit */
  private throttle: { until: number; code: string } | undefined;

  constructor(
    private readonly maxConcurrent: number,
    private readonly onPace: (cap: number, remaining: number) => void = () => {},
  ) {
    this.cap = maxConcurrent;
  }

  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.active >= this.cap) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const i = this.waiters.indexOf(go);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(signal!.reason);
        };
        const go = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        this.waiters.push(go);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    } else this.active++;
    const wait = (this.throttle?.until ?? 0) - Date.now();
    if (wait > 0) {
      // another request was told to wait (429): this one waits with it
      reportWait(signal, wait, (s) => `Dynamics is throttling requests (service protection): waiting ${s} s.`);
      await sleep(wait, signal);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // handed on while the cap has room for it; under a lowered cap the slot is given up instead
      const next = this.active <= this.cap ? this.waiters.shift() : undefined;
      if (next) next();
      else this.active--;
    };
  }

  /**
   * Reads the service-protection headers of an answer: the requests the window has left cap those in
   * flight. Requests already in flight were counted when they arrived, so the cap spends what is left
   * without overshooting it; at none, one request at a time goes, and the first 429 holds the rest until
   * its Retry-After (the headers do not say when the window frees; spacing requests out in time instead
   * delays that 429, and Retry-After counts from it). An answer without the header (a 429 has none) says
   * nothing about the window: a 429 keeps the cap, any other answer lifts it.
   */
  observe(headers: Record<string, string>, status = 200): void {
    const remaining = Number(headers['x-ms-ratelimit-burst-remaining-xrm-requests'] ?? Number.NaN);
    if (!Number.isFinite(remaining)) {
      if (status !== 429) this.setCap(this.maxConcurrent);
      return;
    }
    const cap = Math.max(1, Math.min(this.maxConcurrent, remaining));
    if (cap < this.maxConcurrent && cap !== this.cap) this.onPace(cap, remaining);
    this.setCap(cap);
  }

  private setCap(cap: number): void {
    this.cap = cap;
    while (this.active < this.cap && this.waiters.length) {
      this.active++;
      this.waiters.shift()!();
    }
  }

  /**
   * After a 429: nobody starts a request before the service said to come back; returns when that is.
   *
   * A burst that overshoots a limit gets many 429s, and each Retry-After is whole seconds rounded up from
   * the moment it was sent, so each one is an upper bound of the same moment the window frees: for 429s
   * of the same limit (error code) the earliest resume time is the most precise, and it holds for all of
   * them. A different limit must be waited out as well, so its hold only ever makes the wait longer.
   */
  holdUntil(epochMs: number, code = ''): number {
    const t = this.throttle;
    if (!t || t.until <= Date.now()) this.throttle = { until: epochMs, code };
    else if (t.code === code) t.until = Math.min(t.until, epochMs);
    else if (epochMs > t.until) this.throttle = { until: epochMs, code };
    return this.throttle!.until;
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
