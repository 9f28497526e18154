import type { Dispatcher } from 'undici';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging.js';
import type { Policy } from '../policy/policy.js';
import { VERSION } from '../version.js';
import { createTokenProvider } from './auth.js';
import { DynamicsClient } from './client.js';
import { outboundDispatcher } from './dispatcher.js';
import { createMsalNetworkClient } from './msal-network.js';
import { DEFAULT_RETRY } from './retry.js';
import { Transport } from './transport.js';

/**
 * The client wired for a configuration: its token provider (MSAL, talking to the authority through a pool of
 * its own) and its transport to the organisation (pool, timeouts, retries, proxy, the CA a test trusts).
 */
export function createDynamicsClient(
  config: Readonly<Config>,
  policy: Policy,
  log: Logger,
  opts: { ca?: string } = {},
): DynamicsClient {
  const d = config.dynamics;
  // the authority's own pool (different origin), made on the first token request
  const agentHolder: { agent?: Promise<Dispatcher> } = {};
  const authorityAgent = () =>
    (agentHolder.agent ??= outboundDispatcher(config.proxy, {
      ca: opts.ca,
      headersTimeout: d.timeoutMs,
      bodyTimeout: d.timeoutMs,
    }));
  const tokens = createTokenProvider(config.auth, {
    dynamicsUrl: d.url,
    network: createMsalNetworkClient(authorityAgent, d.timeoutMs),
    logger: log,
  });
  const transport = new Transport(
    {
      origin: new URL(d.url).origin,
      timeoutMs: d.timeoutMs,
      deadlineMs: d.deadlineMs,
      maxConcurrency: d.maxConcurrency,
      retry: { ...DEFAULT_RETRY, maxRetries: d.maxRetries },
      maxResponseBytes: d.maxResponseMb * 1024 * 1024,
      userAgent: `dynamics-mcp/${VERSION} (node ${process.version})`,
      ca: opts.ca,
      proxy: config.proxy,
    },
    tokens,
    log.child({ component: 'http' }),
  );
  return new DynamicsClient(config, policy, transport, log, tokens, async () => {
    if (agentHolder.agent) await (await agentHolder.agent).close();
  });
}
