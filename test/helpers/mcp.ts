import { Writable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { buildDeps } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { createServer, type ServerDeps } from '../../src/server.js';
import { emulatorEnv } from './client.js';
import { watchTexts } from './secrets-watch.js';

export interface McpHarness {
  client: Client;
  deps: ServerDeps;
  logs: string[];
  close(): Promise<void>;
  /** calls a tool and returns its result (isError and all), as a model would see it */
  call(name: string, args: Record<string, unknown>, opts?: Parameters<Client['callTool']>[2]): Promise<any>;
}

/** An SDK Client connected in-process to a real server whose client talks HTTPS to the emulator. */
export async function connectInMemory(
  emu: EmulatorHandle,
  opts: { env?: Record<string, string>; clientCapabilities?: Record<string, unknown>; configFile?: string } = {},
): Promise<McpHarness> {
  const config = loadConfig({
    env: { ...emulatorEnv(emu), LOG_LEVEL: 'debug', ...opts.env },
    flags: { config: opts.configFile },
  });
  const logs: string[] = [];
  const outputs: string[] = [];
  watchTexts('server log', () => logs);
  watchTexts('tool output', () => outputs);
  const sink = new Writable({
    write(chunk, _e, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const deps = buildDeps(config, { logDestination: sink });
  const server = createServer(deps, { caller: 'test' });
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'test-client', version: '1.0.0' }, { capabilities: opts.clientCapabilities ?? {} });
  await server.connect(a);
  await client.connect(b);
  await client.listTools();
  return {
    client,
    deps,
    logs,
    call: async (name, args, o) => {
      const r = await client.callTool({ name, arguments: args }, undefined, o);
      outputs.push(JSON.stringify(r));
      return r;
    },
    async close() {
      await client.close();
      await server.close();
      await deps.client.close();
    },
  };
}

/** The text of a tool result. */
export const textOf = (r: any): string => (r.content as { type: string; text: string }[]).map((c) => c.text).join('\n');
