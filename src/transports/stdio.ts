import { createServer, type ServerDeps } from '../server.js';
import { connectServer } from './malformed.js';
import { StdioLineTransport } from './stdio-lines.js';
import { warmUp } from './warm-up.js';

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
