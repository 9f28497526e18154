import { DataverseError } from './errors.js';

/**
 * LIMITS: service protection per user, over a sliding window. Requests over the count limit and
 * concurrent requests over the concurrency limit get 429 with Retry-After (seconds) and the documented
 * codes; every answer carries the x-ms-ratelimit-* headers. Limits are configurable so tests can reach them.
 */
export interface ServiceProtectionLimits {
  /** requests per window (6,000 per 300 s in Dataverse) */
  requestsPerWindow: number;
  windowMs: number;
  /** concurrent requests (52 in Dataverse) */
  maxConcurrent: number;
  /** combined execution time per window, ms (1,200,000 per 300 s) */
  executionTimeMs: number;
}

export const DATAVERSE_LIMITS: ServiceProtectionLimits = {
  requestsPerWindow: 6000,
  windowMs: 300_000,
  maxConcurrent: 52,
  executionTimeMs: 1_200_000,
};

interface UserWindow {
  stamps: number[];
  head: number;
  concurrent: number;
  durations: { at: number; ms: number }[];
}

export class ServiceProtection {
  private readonly users = new Map<string, UserWindow>();

  constructor(public limits: ServiceProtectionLimits) {}

  private window(user: string, now: number): UserWindow {
    let w = this.users.get(user);
    if (!w) {
      w = { stamps: [], head: 0, concurrent: 0, durations: [] };
      this.users.set(user, w);
    }
    const from = now - this.limits.windowMs;
    while (w.head < w.stamps.length && w.stamps[w.head]! <= from) w.head++;
    if (w.head > 4096) {
      w.stamps = w.stamps.slice(w.head);
      w.head = 0;
    }
    while (w.durations.length && w.durations[0]!.at <= from) w.durations.shift();
    return w;
  }

  /** Admits a request or throws the 429; the returned function must be called when the request ends. */
  admit(user: string, now = Date.now()): { done: () => void; headers: Record<string, string> } {
    const w = this.window(user, now);
    const used = w.stamps.length - w.head;
    const { requestsPerWindow, windowMs, maxConcurrent, executionTimeMs } = this.limits;
    const spent = w.durations.reduce((s, d) => s + d.ms, 0);
    if (w.concurrent >= maxConcurrent)
      throw new DataverseError(
        429,
        '0x80072326',
        `Number of concurrent requests exceeded the limit of ${maxConcurrent}.`,
        {
          'Retry-After': '1',
        },
      );
    if (used >= requestsPerWindow) {
      const oldest = w.stamps[w.head]!;
      const retry = Math.max(1, Math.ceil((oldest + windowMs - now) / 1000));
      throw new DataverseError(
        429,
        '0x80072322',
        `Number of requests exceeded the limit of ${requestsPerWindow} over time window of ${windowMs / 1000} seconds.`,
        { 'Retry-After': String(retry) },
      );
    }
    if (spent >= executionTimeMs) {
      const retry = Math.max(1, Math.ceil((w.durations[0]!.at + windowMs - now) / 1000));
      throw new DataverseError(
        429,
        '0x80072321',
        `Combined execution time of incoming requests exceeded limit of ${executionTimeMs.toLocaleString('en-US')}  milliseconds over time window of ${windowMs / 1000} seconds. Decrease number of concurrent requests or reduce the duration of requests and try again later.`,
        { 'Retry-After': String(retry) },
      );
    }
    w.stamps.push(now);
    w.concurrent++;
    const headers = {
      'x-ms-ratelimit-burst-remaining-xrm-requests': String(requestsPerWindow - used - 1),
      'x-ms-ratelimit-time-remaining-xrm-requests': String(Math.max(0, executionTimeMs - spent)),
    };
    let finished = false;
    return {
      headers,
      done: () => {
        if (finished) return;
        finished = true;
        w.concurrent--;
        w.durations.push({ at: Date.now(), ms: Date.now() - now });
      },
    };
  }

  reset(): void {
    this.users.clear();
  }
}
