import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isLoopbackHost } from '../config/schema.js';
import type { TokenProvider } from '../dynamics/auth.js';
import { outboundDispatcher } from '../dynamics/dispatcher.js';
import { createMsalNetworkClient } from '../dynamics/msal-network.js';
import { asCaller, createOboFactory } from '../dynamics/obo.js';
import { DynamicsMcpError } from '../errors.js';
import { createServer, type ServerDeps } from '../server.js';
import { SessionEventStore } from './event-store.js';
import { HostOriginGuard, RateLimiter, readBody } from './guards.js';
import { type Caller, InboundAuth } from './inbound-auth.js';
import { connectServer, invalidEnvelopeAnswer } from './malformed.js';
import { warmUp } from './warm-up.js';

export interface HttpHandle {
  url: string;
  port: number;
  close(): Promise<void>;
  /** sessions open now (stateful mode) */
  sessions(): number;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  server: McpServer;
  caller: string;
  /** opened with read-only credentials: the same caller with other credentials does not use it */
  readOnly: boolean;
  lastSeen: number;
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
};
const rpcError = (
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
) => json(res, status, { jsonrpc: '2.0', error: { code, message }, id: null }, headers);

/**
 * Streamable HTTP at /mcp for hosted agents: sessions (default) or stateless, inbound authentication,
 * Host/Origin checks, body and rate limits, a session cap with idle expiry, health and readiness, and a
 * shutdown that lets calls in flight finish.
 */
export async function startHttp(deps: ServerDeps, opts: { ca?: string } = {}): Promise<HttpHandle> {
  const { config, log } = deps;
  const h = config.http;
  // Entra's signing keys and the on-behalf-of exchange go out like every other request: through the proxy if set
  const outbound = await outboundDispatcher(config.proxy, { ca: opts.ca });
  const auth = new InboundAuth(config, outbound, log.child({ component: 'inbound-auth' }));
  const loopback = isLoopbackHost(h.host);
  if (auth.disabled && !loopback)
    throw new DynamicsMcpError(
      'config',
      `DYNAMICS_MCP_AUTH=none is refused on ${h.host}: without authentication the server may only listen on a loopback address.`,
      'Bind to 127.0.0.1, or configure DYNAMICS_MCP_API_KEYS or DYNAMICS_MCP_ENTRA_AUDIENCE.',
    );
  const keyed = config.inbound.apiKeys.length + config.inbound.readApiKeys.length > 0;
  if (!auth.disabled && !keyed && !auth.entraEnabled)
    throw new DynamicsMcpError(
      'config',
      'Hosted mode needs inbound authentication.',
      "Set DYNAMICS_MCP_API_KEYS (comma-separated keys, or a file) or DYNAMICS_MCP_ENTRA_AUDIENCE (your API's Application ID URI); or DYNAMICS_MCP_AUTH=none on a loopback address for local use.",
    );
  if (!loopback && !h.allowedHosts.length)
    throw new DynamicsMcpError(
      'config',
      `Listening on ${h.host} needs the host names clients will use.`,
      'Set DYNAMICS_MCP_ALLOWED_HOSTS (e.g. mcp.contoso.com) so requests for other names are refused (DNS-rebinding protection).',
    );
  const guard = new HostOriginGuard(h.host, h.allowedHosts, h.allowedOrigins);
  const limiter = new RateLimiter(h.rateLimitPerMinute);
  const sessions = new Map<string, Session>();
  const obo = config.inbound.onBehalfOf
    ? createOboFactory(config.auth, {
        dynamicsUrl: config.dynamics.url,
        network: createMsalNetworkClient(outbound),
      })
    : undefined;
  const oboProviders = new Map<string, { provider: TokenProvider; expiresAt: number }>();
  // one per user, shared by the providers of each token they sign in with: a user's service-protection window
  // (Transport) outlives a refreshed token, so a new token is not a fresh window that Dataverse answers with 429
  const principals = new Map<string, { principal: object; expiresAt: number }>();
  // POSTs carry the calls; GETs are long-lived SSE streams that shutdown closes rather than waits for
  let postsInFlight = 0;
  let draining = false;
  let ready: { at: number; ok: boolean; reason?: string } | null = null;
  let publicUrl = h.publicUrl?.replace(/\/+$/, '') ?? '';
  const prmUrl = () => `${publicUrl}/.well-known/oauth-protected-resource/mcp`;

  const challenge = (error: string, description: string) =>
    `Bearer error="${error}", error_description="${description.replace(/"/g, "'")}"${auth.entraEnabled ? `, resource_metadata="${prmUrl()}"` : ''}`;

  const providerFor = (caller: Caller): TokenProvider | undefined => {
    if (!obo || !caller.userToken) return undefined;
    const hit = oboProviders.get(caller.userToken);
    if (hit) return hit.provider;
    const expiresAt = (caller.expiresAt ?? 0) * 1000;
    const user = principals.get(caller.id) ?? { principal: {}, expiresAt };
    user.expiresAt = Math.max(user.expiresAt, expiresAt);
    principals.set(caller.id, user);
    const provider = obo(caller.userToken, user.principal);
    oboProviders.set(caller.userToken, { provider, expiresAt });
    return provider;
  };

  const checkReady = async () => {
    if (ready && Date.now() - ready.at < 10_000) return ready;
    try {
      await deps.client.whoAmI({ signal: AbortSignal.timeout(15_000) });
      ready = { at: Date.now(), ok: true };
    } catch (err) {
      ready = { at: Date.now(), ok: false, reason: err instanceof DynamicsMcpError ? err.kind : 'unreachable' };
    }
    return ready;
  };

  const handleMcp = async (req: IncomingMessage, res: ServerResponse, caller: Caller) => {
    let body: unknown;
    if (req.method === 'POST') {
      const text = await readBody(req, h.bodyLimitBytes);
      if (text === null) return rpcError(res, 413, -32600, `Request body larger than ${h.bodyLimitBytes} bytes`);
      try {
        body = JSON.parse(text);
      } catch {
        return rpcError(res, 400, -32700, 'Parse error: the body is not JSON');
      }
      // a request the SDK's transport cannot parse as JSON-RPC gets "Parse error: Invalid JSON-RPC message"
      // there; say what is wrong instead (wrong params are answered per request, see malformed.ts)
      const invalid = (Array.isArray(body) ? body : [body]).map(invalidEnvelopeAnswer).find(Boolean);
      if (invalid) return json(res, 400, invalid);
      const first = Array.isArray(body) ? body[0] : body;
      const m = first as { method?: string; params?: { name?: string } } | undefined;
      (res as ServerResponse & { rpc?: string }).rpc =
        m?.method === 'tools/call' ? `tools/call ${m.params?.name}` : m?.method;
    }
    const run = (fn: () => Promise<void>) => {
      const p = providerFor(caller);
      return p ? asCaller(p, fn) : fn();
    };
    if (h.stateless) {
      if (req.method !== 'POST')
        return json(res, 405, { error: 'Method not allowed in stateless mode' }, { allow: 'POST' });
      const server = createServer(deps, { caller: caller.id, readOnly: caller.readOnly });
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      await connectServer(server, transport);
      return run(() => transport.handleRequest(req, res, body));
    }
    const sid = req.headers['mcp-session-id'];
    if (typeof sid === 'string') {
      const s = sessions.get(sid);
      // a session belongs to the caller that opened it, with the credentials' reach it was opened with (a
      // read-only token must not use a session its owner opened to write, nor a write token a read-only one)
      if (!s || s.caller !== caller.id || s.readOnly !== caller.readOnly)
        return rpcError(res, 404, -32001, 'Session not found');
      s.lastSeen = Date.now();
      return run(() => s.transport.handleRequest(req, res, body));
    }
    const isInit = (Array.isArray(body) ? body : [body]).some(
      (m) => (m as { method?: string })?.method === 'initialize',
    );
    if (req.method !== 'POST' || !isInit)
      return rpcError(res, 400, -32000, 'Bad Request: no valid session id; start with initialize');
    if (sessions.size >= h.maxSessions)
      return rpcError(res, 503, -32000, 'Too many open sessions; try again later', { 'retry-after': '30' });
    const server = createServer(deps, { caller: caller.id, readOnly: caller.readOnly });
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      eventStore: new SessionEventStore(),
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, server, caller: caller.id, readOnly: caller.readOnly, lastSeen: Date.now() });
      },
      onsessionclosed: (id) => {
        sessions.delete(id);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await connectServer(server, transport);
    return run(() => transport.handleRequest(req, res, body));
  };

  const route = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const blocked = guard.check(req);
    if (blocked) return json(res, 403, { error: 'forbidden', error_description: blocked });
    if (url.pathname === '/healthz') return json(res, 200, { status: 'ok' });
    if (url.pathname === '/readyz') {
      const r = await checkReady();
      return json(res, r.ok ? 200 : 503, r.ok ? { status: 'ready' } : { status: 'not ready', reason: r.reason });
    }
    if (
      url.pathname === '/.well-known/oauth-protected-resource/mcp' ||
      url.pathname === '/.well-known/oauth-protected-resource'
    ) {
      if (!auth.entraEnabled) return json(res, 404, { error: 'not_found' });
      return json(res, 200, {
        resource: `${publicUrl}/mcp`,
        authorization_servers: [auth.authorizationServer],
        scopes_supported: [...config.inbound.requiredScopes, ...config.inbound.readScopes].map(
          (s) => `${config.inbound.entraAudience}/${s}`,
        ),
        bearer_methods_supported: ['header'],
        resource_name: 'Dynamics 365 MCP server',
      });
    }
    if (url.pathname !== '/mcp')
      return json(res, 404, { error: 'not_found', error_description: 'The MCP endpoint is /mcp' });
    if (draining)
      return rpcError(res, 503, -32000, 'Server is shutting down', { connection: 'close', 'retry-after': '5' });
    const outcome = await auth.authenticate(req);
    if (!outcome.ok) {
      const wait = limiter.take(`ip:${req.socket.remoteAddress}`);
      if (wait) return rpcError(res, 429, -32000, 'Too many requests', { 'retry-after': String(wait) });
      return json(
        res,
        outcome.status,
        { error: outcome.error, error_description: outcome.description },
        { 'www-authenticate': challenge(outcome.error, outcome.description) },
      );
    }
    (res as ServerResponse & { caller?: string }).caller = outcome.caller.id;
    const wait = limiter.take(outcome.caller.id);
    if (wait)
      return rpcError(res, 429, -32000, `Too many requests: at most ${h.rateLimitPerMinute} a minute`, {
        'retry-after': String(wait),
      });
    await handleMcp(req, res, outcome.caller);
  };

  const server = createHttpServer((req, res) => {
    const started = Date.now();
    const isPost = req.method === 'POST';
    if (isPost) postsInFlight++;
    res.on('close', () => {
      if (isPost) postsInFlight--;
      const r = res as ServerResponse & { rpc?: string; caller?: string };
      log.info(
        {
          method: req.method,
          path: req.url?.split('?')[0],
          rpc: r.rpc,
          status: res.statusCode,
          ms: Date.now() - started,
          caller: r.caller,
        },
        'http',
      );
    });
    route(req, res).catch((err: unknown) => {
      log.error({ err }, 'http handler failed');
      if (!res.headersSent) rpcError(res, 500, -32603, 'Internal error');
      else res.destroy();
    });
  });
  server.requestTimeout = 0; // SSE streams stay open; each tool call has its own deadline
  server.headersTimeout = 30_000;
  // an idle kept-alive connection is closed after 65 s, not Node's 5: a client under load, or a proxy that keeps
  // its own connections 60 s (AWS's ALB), may send on one just as a 5 s server closes it, and the call fails
  // with ECONNRESET (P8 under contention did, 20–150 calls of 4,000). headersTimeout does not count the idle
  // time since Node 18, so it still cuts a request whose headers trickle in.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, h.host, h.port)));
    server.listen(h.port, h.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = h.host.includes(':') ? `[${h.host}]` : h.host;
  if (!publicUrl) publicUrl = `http://${shownHost}:${port}`;

  const sweeper = setInterval(
    () => {
      const cutoff = Date.now() - h.sessionIdleMs;
      for (const [id, s] of sessions)
        if (s.lastSeen < cutoff) {
          sessions.delete(id);
          void s.transport.close();
          void s.server.close();
          log.debug({ session: id }, 'idle session closed');
        }
      for (const [t, p] of oboProviders) if (p.expiresAt < Date.now()) oboProviders.delete(t);
      for (const [u, p] of principals) if (p.expiresAt < Date.now()) principals.delete(u);
    },
    Math.min(60_000, h.sessionIdleMs),
  );
  sweeper.unref();
  log.info(
    {
      url: `${publicUrl}/mcp`,
      mode: h.stateless ? 'stateless' : 'sessions',
      auth: auth.disabled
        ? 'none'
        : [keyed ? 'api-keys' : '', auth.entraEnabled ? 'entra' : ''].filter(Boolean).join('+'),
    },
    'serving MCP over Streamable HTTP',
  );
  // signed in before the first caller asks, as over stdio; with on-behalf-of each call signs in as its user
  // and the server's own identity may have no application user in Dynamics, so there it is not tried
  const warming = new AbortController();
  if (!obo) void warmUp(deps, warming.signal);

  return {
    url: `${publicUrl}/mcp`,
    port,
    sessions: () => sessions.size,
    async close() {
      draining = true;
      warming.abort();
      clearInterval(sweeper);
      server.close();
      // let calls in flight finish (bounded), then close the streams that stay open
      const until = Date.now() + 10_000;
      while (postsInFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
      for (const s of sessions.values()) {
        await s.transport.close().catch(() => {});
        await s.server.close().catch(() => {});
      }
      sessions.clear();
      server.closeAllConnections();
    },
  };
}

/** Why the server could not listen, in words, with the way out (the usual first-run stumble: port in use). */
function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (err.code === 'EADDRINUSE')
    return new DynamicsMcpError(
      'config',
      `Port ${port} is already in use on ${host} (another dynamics-mcp, or another server).`,
      `Stop it, or use another port: --port ${port + 1} (PORT=${port + 1} with npm start).`,
    );
  if (err.code === 'EACCES')
    return new DynamicsMcpError(
      'config',
      `Not allowed to listen on ${where}: ports below 1024 need privileges.`,
      'Use a port of 1024 or above (--port 3000) and put a reverse proxy in front for 80/443.',
    );
  if (err.code === 'EADDRNOTAVAIL')
    return new DynamicsMcpError(
      'config',
      `${host} is not an address of this machine, so the server cannot listen on it.`,
      "Use 127.0.0.1 (the default), 0.0.0.0 for every interface, or one of the machine's own addresses (--host).",
    );
  return err;
}
