import type { Dispatcher } from 'undici';
import type { Config } from '../config/schema.js';
import { DynamicsMcpError } from '../errors.js';

/** Without NO_PROXY, loopback addresses are reached directly (the demo organisation, local tools). */
export const DEFAULT_NO_PROXY = 'localhost,127.0.0.1,::1';

export interface OutboundOptions {
  /** trust for the target's certificate besides the system's (the emulator's CA) */
  ca?: string;
  connectTimeoutMs?: number;
  /** connections per origin */
  connections?: number;
  keepAliveTimeout?: number;
  headersTimeout?: number;
  bodyTimeout?: number;
}

/**
 * Every outbound HTTP client (Dataverse, the token endpoint, Entra's signing keys, doctor) is made here, so a
 * corporate proxy (HTTPS_PROXY / HTTP_PROXY / NO_PROXY, see config) applies to all of them alike. Requests
 * name their origin; one pool per origin either way. undici's EnvHttpProxyAgent does the routing and the
 * CONNECT tunnel, with the settings passed in rather than read from the environment again.
 */
export async function outboundDispatcher(proxy: Config['proxy'], o: OutboundOptions = {}): Promise<Dispatcher> {
  // undici is loaded on the first request, not at start-up (stdio cold start)
  const { Agent, EnvHttpProxyAgent } = await import('undici');
  const pool = {
    ...(o.connections ? { connections: o.connections } : {}),
    ...(o.keepAliveTimeout ? { keepAliveTimeout: o.keepAliveTimeout } : {}),
    ...(o.headersTimeout ? { headersTimeout: o.headersTimeout } : {}),
    ...(o.bodyTimeout ? { bodyTimeout: o.bodyTimeout } : {}),
  };
  const connect = { timeout: o.connectTimeoutMs ?? 10_000, ...(o.ca ? { ca: o.ca } : {}) };
  if (!proxy.https && !proxy.http) return new Agent({ ...pool, connect });
  return new EnvHttpProxyAgent({
    ...pool,
    connect,
    // through a tunnel, the target's TLS is set up by the proxy agent: it needs the same trust
    ...(o.ca ? { requestTls: { ca: o.ca } } : {}),
    // '' rather than undefined: undici would otherwise read process.env itself (config is parsed once)
    httpProxy: proxy.http ?? '',
    httpsProxy: proxy.https ?? proxy.http ?? '',
    noProxy: proxy.noProxy ?? DEFAULT_NO_PROXY,
  });
}

/** A proxy that refused to open the tunnel, as an error that says which proxy setting to change. */
export function proxyRefusal(err: unknown, target: string): DynamicsMcpError | undefined {
  const status = /Proxy response \((\d+)\)/.exec((err as Error)?.message ?? '')?.[1];
  if (!status) return undefined;
  return new DynamicsMcpError(
    'network',
    `The proxy (HTTPS_PROXY) refused to open a connection to ${target}: HTTP ${status}.`,
    status === '407'
      ? 'The proxy wants credentials: put them in the proxy URL (http://user:password@proxy:port), or ask for this host to be allowed without them.'
      : `Ask the proxy's administrator to allow ${target}, or list it in NO_PROXY if this machine reaches it directly.`,
    { retryable: false },
  );
}

/** The proxy as it may be shown: without its password. */
export function proxyForDisplay(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(not a URL)';
  }
}

/** The password in a proxy URL, as written and decoded: both can end up in text. */
export function proxyPasswords(url: string | undefined): string[] {
  if (!url) return [];
  try {
    const { password } = new URL(url);
    return password ? [...new Set([password, decodeURIComponent(password)])] : [];
  } catch {
    return [];
  }
}
