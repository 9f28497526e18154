import type { Dispatcher } from 'undici';
import type { Config } from '../config/schema.js';
import { DynamicsMcpError } from '../errors.js';
import type { Logger } from '../logging.js';
import { flatHeaders, redirectTarget } from './answers.js';
import type { TokenProvider } from './auth.js';
import { sendBatch } from './batch.js';
import { outboundDispatcher, proxyRefusal } from './dispatcher.js';
import { type ErrorContext, mapDataverseError, PLUGIN_REFUSED_CODE, readErrorBody } from './errors.js';
import { RequestLimiter, sleep } from './limiter.js';
import { callerTokens } from './obo.js';
import { decideOnError, decideOnStatus, type RetryDecision, type RetrySettings } from './retry.js';
import { linkedSignal } from './signals.js';
import { reportWait } from './waits.js';

export interface DvRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** path and query on the Dynamics origin, e.g. /api/data/v9.2/accounts?$select=name */
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** whether repeating the request after a lost response cannot change the outcome */
  idempotent: boolean;
  signal?: AbortSignal;
  /** statuses the caller handles itself instead of an error */
  accept?: number[];
  context?: ErrorContext;
}

export interface DvResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** how many times the request was sent */
  attempts: number;
}

export interface TransportSettings {
  origin: string;
  timeoutMs: number;
  deadlineMs: number;
  maxConcurrency: number;
  retry: RetrySettings;
  /** the largest answer read (Config dynamics.maxResponseMb); past it the request is refused, too_large */
  maxResponseBytes?: number;
  userAgent: string;
  /** an extra CA to trust (the in-process demo emulator); otherwise system trust + NODE_EXTRA_CA_CERTS */
  ca?: string;
  proxy: Config['proxy'];
}

/**
 * One undici pool per Dynamics origin, with the OData headers, bearer auth (a refused token is dropped and
 * the request sent once more), the concurrency caps (the pool's, and each identity's service-protection
 * window), and the retry strategies. Every attempt is bounded by the timeout and every call by the deadline;
 * the caller's AbortSignal reaches the socket.
 */
export class Transport {
  private poolPromise: Promise<Dispatcher> | null = null;
  /** the pool's requests in flight, whoever they run as */
  private readonly slots: RequestLimiter;
  /**
   * Dataverse counts service protection per user: each identity requests run as (the server's own, or each
   * on-behalf-of user's, however many of their tokens there are: TokenProvider.principal) has its own window,
   * so one user's 429 holds that user's requests and not everyone's
   */
  private readonly windows = new WeakMap<object, RequestLimiter>();

  constructor(
    private readonly s: TransportSettings,
    private readonly tokens: TokenProvider,
    private readonly log: Logger,
  ) {
    this.slots = new RequestLimiter(s.maxConcurrency);
  }

  private windowOf(tokens: TokenProvider): RequestLimiter {
    const who = tokens.principal ?? tokens;
    let w = this.windows.get(who);
    if (!w) {
      w = new RequestLimiter(this.s.maxConcurrency, (cap, remaining) =>
        this.log.debug({ cap, remaining }, 'the service-protection window is nearly spent: fewer requests in flight'),
      );
      this.windows.set(who, w);
    }
    return w;
  }

  /** A slot in the caller's service-protection window (waiting out its 429 hold), then one of the pool's. */
  private async acquire(window: RequestLimiter, signal: AbortSignal): Promise<() => void> {
    const leaveWindow = await window.acquire(signal);
    try {
      const leavePool = await this.slots.acquire(signal);
      return () => {
        leavePool();
        leaveWindow();
      };
    } catch (err) {
      leaveWindow();
      throw err;
    }
  }

  /** The pool is made (and undici loaded) on the first request, not at start-up; through the proxy if one is set. */
  private pool(): Promise<Dispatcher> {
    this.poolPromise ??= outboundDispatcher(this.s.proxy, {
      connections: this.s.maxConcurrency,
      keepAliveTimeout: 30_000,
      // undici keeps these on a coarse clock (ticks of ~0.5 s), so a wait of timeoutMs gives up between
      // timeoutMs and timeoutMs + 0.5 s, later under load: harmless at the default 30 s; tests leave room for it
      headersTimeout: this.s.timeoutMs,
      bodyTimeout: this.s.timeoutMs,
      connectTimeoutMs: Math.min(10_000, this.s.timeoutMs),
      ca: this.s.ca,
    });
    return this.poolPromise;
  }

  async send(req: DvRequest): Promise<DvResponse> {
    if (req.method === 'GET' && this.s.origin.length + req.path.length > URL_LIMIT) return this.sendInBatch(req);
    const started = Date.now();
    const deadline = started + this.s.deadlineMs;
    let refreshedToken = false;
    const counts = { transient: 0, throttle: 0 };
    const tokens = callerTokens.getStore() ?? this.tokens;
    const window = this.windowOf(tokens);
    for (let attempt = 0; ; attempt++) {
      const remaining = deadline - Date.now();
      if (req.signal?.aborted) throw cancelled();
      if (remaining <= 0) throw timeout(this.s.deadlineMs, req);
      const attemptSignal = linkedSignal(req.signal, remaining);
      const signal = attemptSignal.signal;
      let release: (() => void) | undefined;
      let token = '';
      let res: { status: number; headers: Record<string, string>; text: string };
      try {
        release = await this.acquire(window, signal);
        token = await tokens.getToken(signal);
        const pool = await this.pool();
        const r = await pool.request({
          origin: this.s.origin,
          method: req.method,
          path: req.path,
          signal,
          headers: {
            accept: 'application/json',
            'odata-version': '4.0',
            'odata-maxversion': '4.0',
            'user-agent': this.s.userAgent,
            ...(req.body !== undefined && !req.headers?.['content-type']
              ? { 'content-type': 'application/json; charset=utf-8' }
              : {}),
            ...req.headers,
            authorization: `Bearer ${token}`,
          },
          body: req.body,
        });
        const headers = flatHeaders(r.headers);
        const text = await bodyText(r.body, headers, this.s.maxResponseBytes ?? DEFAULT_MAX_RESPONSE);
        res = { status: r.statusCode, headers, text };
      } catch (err) {
        release?.();
        if (err instanceof DynamicsMcpError) throw err;
        if (req.signal?.aborted) throw cancelled();
        const refused = proxyRefusal(err, new URL(this.s.origin).host);
        if (refused) throw refused;
        if (signal.aborted) throw timeout(this.s.deadlineMs, req);
        const d = decideOnError(err, counts.transient++, req.idempotent, this.s.retry, deadline - Date.now());
        this.log.debug(
          {
            method: req.method,
            path: pathOnly(req.path),
            attempt,
            code: (err as { code?: string }).code,
            decision: d.reason,
          },
          'request failed',
        );
        if (!d.retry) throw network(err, req);
        const code = (err as { code?: string }).code;
        reportWait(
          req.signal,
          d.delayMs,
          (s) => `Could not reach Dynamics${code ? ` (${code})` : ''}: trying again in ${s} s.`,
        );
        await sleep(d.delayMs, req.signal);
        continue;
      } finally {
        attemptSignal.done();
      }
      // read before the slot is handed on, so that a lowered cap holds back the next request already
      window.observe(res.headers, res.status);
      release();
      if (res.status === 401 && !refreshedToken) {
        refreshedToken = true;
        tokens.invalidate(token);
        this.log.debug({ path: pathOnly(req.path) }, '401 from Dataverse: fetching a new token and retrying once');
        continue;
      }
      if (res.status >= 400 && !req.accept?.includes(res.status)) {
        const code = readErrorBody(res.text)?.code;
        // a plug-in's refusal comes back the same however often it is asked, whatever status the plug-in chose
        const d: RetryDecision =
          code === PLUGIN_REFUSED_CODE
            ? { retry: false, reason: 'refused by a plug-in' }
            : decideOnStatus(res.status, res.headers, counts, req.idempotent, this.s.retry, deadline - Date.now());
        if (res.status === 429) counts.throttle++;
        else counts.transient++;
        this.log.debug(
          { method: req.method, path: pathOnly(req.path), status: res.status, attempt, decision: d.reason },
          'retry decision',
        );
        if (d.retry) {
          const wait =
            res.status === 429 ? Math.max(0, window.holdUntil(Date.now() + d.delayMs, code) - Date.now()) : d.delayMs;
          reportWait(req.signal, wait, (s) =>
            res.status === 429
              ? `Dynamics is throttling requests (service protection): waiting ${s} s before trying again.`
              : `Dynamics answered HTTP ${res.status}: trying again in ${s} s.`,
          );
          await sleep(wait, req.signal).catch(() => {
            throw cancelled();
          });
          continue;
        }
        throw mapDataverseError(res.status, res.headers, res.text, req.context);
      }
      // the Web API does not redirect; something in front of it (or an old environment URL) does
      if (res.status >= 300 && res.status < 400 && !req.accept?.includes(res.status)) throw redirected(res.headers);
      return { ...res, attempts: attempt + 1 };
    }
  }

  /**
   * A GET whose URL is over the 32,768 characters Dataverse accepts, sent inside a $batch, where a URL of up
   * to 65,536 is allowed (Microsoft's advice for long queries: Compose HTTP requests, "Maximum URL length").
   * A query's "in" list of a few hundred names gets there; beyond the batch limit nothing is sent.
   */
  private async sendInBatch(req: DvRequest): Promise<DvResponse> {
    const length = this.s.origin.length + req.path.length;
    const root = /^\/api\/data\/v[\d.]+/.exec(req.path)?.[0];
    if (length > BATCH_URL_LIMIT || !root) throw tooLong(length);
    const { parts, attempts } = await sendBatch(
      this,
      `${this.s.origin}${root}`,
      [{ method: 'GET', url: req.path.slice(root.length + 1), headers: req.headers }],
      req.signal,
    );
    const part = parts[0];
    if (!part) throw mapDataverseError(502, {}, 'The $batch answer holds no response.', req.context);
    if (part.status >= 400 && !req.accept?.includes(part.status))
      throw mapDataverseError(part.status, part.headers, part.body, req.context);
    return { status: part.status, headers: part.headers, text: part.body, attempts };
  }

  async close(): Promise<void> {
    if (this.poolPromise) await (await this.poolPromise).close();
  }
}

const pathOnly = (p: string) => p.split('?')[0];

/** The longest URL Dataverse accepts, and inside a $batch (Compose HTTP requests, "Maximum URL length"). */
export const URL_LIMIT = 32_768;
export const BATCH_URL_LIMIT = 65_536;

const tooLong = (length: number) =>
  new DynamicsMcpError(
    'too_large',
    `The query is too long for Dynamics: ${length.toLocaleString('en-US')} characters, over the ${BATCH_URL_LIMIT.toLocaleString('en-US')} it accepts.`,
    'Ask in parts: split a long "in" list over several queries, or use a shorter filter or fewer columns.',
    { retryable: false },
  );

/** A call the client stopped: said as such wherever the stop is met (a request, a wait, a shared read) */
export const cancelled = () =>
  new DynamicsMcpError(
    'cancelled',
    'The request was cancelled.',
    'Nothing more to do; the call was stopped by the client.',
    { retryable: false },
  );

const timeout = (ms: number, req: DvRequest) =>
  new DynamicsMcpError(
    'timeout',
    `Dynamics did not answer within ${Math.round(ms / 1000)} s.`,
    req.method === 'GET'
      ? 'Ask for fewer rows (a smaller top, a narrower filter) or try again shortly.'
      : 'The write may or may not have happened: read the record before retrying.',
    { retryable: req.idempotent },
  );

function redirected(headers: Record<string, string>): DynamicsMcpError {
  return new DynamicsMcpError(
    'config',
    `Dynamics answered with a redirect to ${redirectTarget(headers.location)}, which this server does not follow.`,
    'Set DYNAMICS_URL to the Environment URL shown in the Power Platform admin center (Environments → your environment). A redirect to a sign-in page means a proxy between this server and Dynamics wants its own sign-in; ask for this host to be let through.',
    { retryable: false },
  );
}

const network = (err: unknown, req: DvRequest) =>
  new DynamicsMcpError(
    'network',
    `Could not reach Dynamics: ${(err as { code?: string }).code ?? (err as Error).message}.`,
    req.idempotent
      ? 'Check the network and DYNAMICS_URL, then try again.'
      : 'The write may or may not have happened: read the record before retrying.',
    { retryable: req.idempotent },
  );

/** The largest answer read where no setting says (the configuration's default, 200 MB) */
const DEFAULT_MAX_RESPONSE = 200 * 1024 * 1024;

/**
 * An answer's text, refused once it is larger than `cap` (by its Content-Length, or counted as it arrives):
 * a page of files (notes' documentbody, attachments' body, up to 128 MB each where an organisation raised the
 * limit) would otherwise be held whole, past what the process can hold as a string. Not retried: the same
 * request gets the same answer.
 */
async function bodyText(body: Dispatcher.ResponseData['body'], headers: Record<string, string>, cap: number) {
  /** `declared`: the answer's whole size, known from its header; else only that it passed the cap */
  const refuse = (declared?: number) => {
    body.destroy();
    const mb = (n: number) => `${Math.ceil(n / (1024 * 1024)).toLocaleString('en-US')} MB`;
    return new DynamicsMcpError(
      'too_large',
      `Dynamics' answer is ${declared ? mb(declared) : `over ${mb(cap)}`}, more than this server reads at once (dynamics.maxResponseMb).`,
      "Ask for fewer rows or fewer columns: long texts (a note's, an email's) and files one record at a time (top 1).",
      { retryable: false },
    );
  };
  const declared = Number(headers['content-length']);
  if (declared > cap) throw refuse(declared);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > cap) throw refuse();
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks, size).toString('utf8');
  // a byte order mark (.NET writers and some proxies send one) is not the JSON's, as fetch's text() drops it
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
