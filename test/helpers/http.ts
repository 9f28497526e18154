import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { buildDeps } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import type { ServerDeps } from '../../src/server.js';
import { type HttpHandle, startHttp } from '../../src/transports/http.js';
import { emulatorEnv } from './client.js';
import { watchSecret, watchTexts } from './secrets-watch.js';

export interface HttpHarness {
  http: HttpHandle;
  deps: ServerDeps;
  logs: string[];
  close(): Promise<void>;
  /** an SDK client over Streamable HTTP with this bearer token (or none) */
  connect(token?: string, headers?: Record<string, string>): Promise<Client>;
}

/** A real HTTP server on 127.0.0.1:0 in this process, its Dynamics client pointed at the emulator. */
export async function startHttpServer(
  emu: EmulatorHandle,
  env: Record<string, string> = {},
  file: Record<string, unknown> = {},
): Promise<HttpHarness> {
  const configFile = join(tmpdir(), `dmcp-http-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(configFile, JSON.stringify({ ...file, http: { port: 0, ...(file.http as object) } }));
  const config = loadConfig({
    env: { ...emulatorEnv(emu), LOG_LEVEL: 'debug', DYNAMICS_MCP_CONFIG: configFile, ...env },
  });
  const logs: string[] = [];
  watchTexts('http server log', () => logs);
  // inbound API keys are credentials: the secrets scan looks for them in every log and result too
  for (const key of [...config.inbound.apiKeys, ...config.inbound.readApiKeys]) watchSecret(key);
  const deps = buildDeps(config, {
    logDestination: new Writable({
      write(c, _e, cb) {
        logs.push(String(c));
        cb();
      },
    }),
  });
  const http = await startHttp(deps);
  const clients: Client[] = [];
  return {
    http,
    deps,
    logs,
    async connect(token, headers = {}) {
      const transport = new StreamableHTTPClientTransport(new URL(http.url), {
        requestInit: { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } },
      });
      const client = new Client({ name: 'http-test', version: '1.0.0' });
      await client.connect(transport);
      clients.push(client);
      return client;
    },
    async close() {
      for (const c of clients) await c.close().catch(() => {});
      await http.close();
      await deps.client.close();
    },
  };
}
