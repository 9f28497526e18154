import { reportWait } from './waits.js';

/**
 * Caps requests in flight (below Dataverse's 52 concurrent requests per user) and paces them when the
 * service says the window is nearly spent (x-ms-ratelimit-burst-remaining-xrm-requests), so the server
 * slows itself down before it earns a 429.
 */
export class RequestLimiter {
  private active = 0;
  private readonly waiters: (() => void)[] = [];
  private notBefore = 0;
  /** the current 429 hold: when requests may start again, and which limit the service said was hit */
  private throttle: { until: number; code: string } | undefined;

  constructor(
    private readonly maxConcurrent: number,
    private readonly onPace: (delayMs: number, remaining: number) => void = () => {},
  ) {}

  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.active >= this.maxConcurrent) {
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
    const wait = Math.max(this.notBefore, this.throttle?.until ?? 0) - Date.now();
    if (wait > 0) {
      // another request was told to wait (429): this one waits with it
      reportWait(signal, wait, (s) => `Dynamics is throttling requests (service protection): waiting ${s} s.`);
      await sleep(wait, signal);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next();
      else this.active--;
    };
  }

  /**
   * Reads the service-protection headers of a response. When the window is nearly spent, request starts are
   * spaced a little, so that the requests in flight do not all overshoot into 429s; the 429's Retry-After then
   * says exactly when to resume (the headers do not say when the window frees).
   */
  observe(headers: Record<string, string>): void {
    const remaining = Number(headers['x-ms-ratelimit-burst-remaining-xrm-requests']);
    if (!Number.isFinite(remaining) || remaining >= this.maxConcurrent) return;
    const delay = remaining <= 0 ? 100 : 10;
    this.notBefore = Math.max(this.notBefore, Date.now() + delay);
    this.onPace(delay, remaining);
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
