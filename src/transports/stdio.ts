import { DynamicsMcpError } from '../errors.js';
import { createServer, type ServerDeps } from '../server.js';
import { connectServer } from './malformed.js';
import { StdioLineTransport } from './stdio-lines.js';

/**
 * MCP over stdio for assistants that launch the server themselves. stdout carries only JSON-RPC (logs are
 * on stderr); the process ends cleanly when stdin closes or on SIGINT/SIGTERM.
 */
export async function serveStdio(deps: ServerDeps, onClose: () => Promise<void> = async () => {}): Promise<void> {
  // a stray console.log would corrupt the protocol stream: send it to stderr
  console.log = (...args: unknown[]) => console.error(...args);
  const server = createServer(deps, { caller: 'local' });
  const transport = new StdioLineTransport();
  const warming = new AbortController();
  // once the client has finished initialising: after the initialize answer, so start-up is not slowed
  server.server.oninitialized = () => void warmUp(deps, warming.signal);
  let closing = false;
  const shutdown = async (why: string) => {
    if (closing) return;
    closing = true;
    warming.abort();
    deps.log.info({ why }, 'shutting down');
    await server.close().catch(() => {});
    await deps.client.close().catch(() => {});
    await onClose().catch(() => {});
  };
  const done = new Promise<void>((resolve) => {
    process.stdin.once('end', () => void shutdown('stdin closed').then(resolve));
    process.stdin.once('close', () => void shutdown('stdin closed').then(resolve));
    process.once('SIGINT', () => void shutdown('SIGINT').then(resolve));
    process.once('SIGTERM', () => void shutdown('SIGTERM').then(resolve));
  });
  await connectServer(server, transport);
  deps.log.info(
    { tools: deps.policy.readOnly ? 'read-only' : 'read-write', dynamics: deps.config.dynamics.url },
    'serving MCP over stdio',
  );
  await done;
}

/**
 * What every first tool call would otherwise wait for, done while the assistant is still idle: a token from
 * Entra ID (MSAL loaded, the authority discovered) and a connection to Dynamics, with WhoAmI, the lightest
 * request there is. About 0.3 s against the demo organisation, more against a tenant. A failure is logged
 * (early, where an admin reading the client's log sees it) and is not fatal: each tool call asks again and
 * answers with the reason.
 */
async function warmUp(deps: ServerDeps, signal: AbortSignal): Promise<void> {
  const started = performance.now();
  try {
    await deps.client.whoAmI({ signal });
    deps.log.info({ ms: Math.round(performance.now() - started) }, 'signed in to Dynamics');
  } catch (err) {
    if (signal.aborted) return;
    // with what to do about it, as a tool call would say it
    const hint = err instanceof DynamicsMcpError && err.hint ? { hint: err.hint } : {};
    deps.log.warn({ err, ...hint }, 'Dynamics could not be reached at start-up; each tool call will try again');
  }
}
