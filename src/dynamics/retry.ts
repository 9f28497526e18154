/**
 * Retry decisions, as two strategies (after Azure core's retryStrategies): throttling honours the service's
 * Retry-After; transient faults (502/503/504, timeouts, resets) back off exponentially with full jitter and
 * apply only to requests that are safe to repeat.
 */
export interface RetrySettings {
  maxRetries: number;
  /** 429s are counted apart: waiting out service protection is normal under load, bounded by the deadline */
  maxThrottleRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** the longest Retry-After we are willing to wait in one go */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetrySettings = {
  maxRetries: 4,
  maxThrottleRetries: 20,
  baseDelayMs: 250,
  maxDelayMs: 8000,
  maxRetryAfterMs: 120_000,
};

export type RetryDecision = { retry: false; reason: string } | { retry: true; delayMs: number; reason: string };

const TRANSIENT_STATUS = new Set([502, 503, 504]);
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

export function retryAfterMs(headers: Record<string, string>): number | undefined {
  const v = headers['retry-after'];
  if (!v) return undefined;
  const secs = Number(v);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

export function backoff(attempt: number, s: RetrySettings, random = Math.random): number {
  const cap = Math.min(s.maxDelayMs, s.baseDelayMs * 2 ** attempt);
  return Math.round(cap / 2 + (random() * cap) / 2);
}

export function decideOnStatus(
  status: number,
  headers: Record<string, string>,
  attempts: { transient: number; throttle: number },
  idempotent: boolean,
  s: RetrySettings,
  remainingMs: number,
): RetryDecision {
  const attempt = attempts.transient;
  if (status === 429) {
    if (attempts.throttle >= s.maxThrottleRetries)
      return { retry: false, reason: `still throttled after ${attempts.throttle} waits` };
    // LIMITS: service protection rejects before processing, so any method may be repeated
    const wait = retryAfterMs(headers) ?? backoff(attempt, s);
    if (wait > s.maxRetryAfterMs || wait > remainingMs)
      return { retry: false, reason: `Retry-After ${Math.ceil(wait / 1000)} s is past the deadline` };
    return { retry: true, delayMs: wait, reason: `429 throttled, Retry-After ${Math.ceil(wait / 1000)} s` };
  }
  if (TRANSIENT_STATUS.has(status)) {
    if (attempt >= s.maxRetries) return { retry: false, reason: `gave up after ${attempt} retries` };
    if (!idempotent) return { retry: false, reason: `${status} on a request that is not safe to repeat` };
    const wait = Math.max(retryAfterMs(headers) ?? 0, backoff(attempt, s));
    if (wait > remainingMs) return { retry: false, reason: 'no time left before the deadline' };
    return { retry: true, delayMs: wait, reason: `${status}, backing off` };
  }
  return { retry: false, reason: 'not retryable' };
}

export function decideOnError(
  err: unknown,
  attempt: number,
  idempotent: boolean,
  s: RetrySettings,
  remainingMs: number,
): RetryDecision {
  const code = (err as { code?: string }).code ?? '';
  if (attempt >= s.maxRetries) return { retry: false, reason: `gave up after ${attempt} retries` };
  if (!TRANSIENT_CODES.has(code)) return { retry: false, reason: `${code || 'error'} is not transient` };
  if (!idempotent) return { retry: false, reason: `${code} on a request that is not safe to repeat` };
  const wait = backoff(attempt, s);
  if (wait > remainingMs) return { retry: false, reason: 'no time left before the deadline' };
  return { retry: true, delayMs: wait, reason: `${code}, backing off` };
}
