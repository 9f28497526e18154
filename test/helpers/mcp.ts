import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { buildDeps } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { DEFAULT_POLICY } from '../../src/policy/default.js';
import { createServer, type ServerDeps } from '../../src/server.js';
import { connectServer } from '../../src/transports/malformed.js';
import { emulatorEnv } from './client.js';
import { startTestEmulator } from './emulator.js';
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
  await connectServer(server, a);
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

/**
 * Runs a query_entities call on `entity` as a prompt wrote it, the model's way: `pattern` finds it in the
 * prompt's `text`, its groups the where and select (JSON), the orderBy and the top. Fails the test where the
 * prompt no longer asks for it.
 */
export async function callAsWritten(h: McpHarness, entity: string, text: string, pattern: RegExp): Promise<any> {
  const q = pattern.exec(text);
  if (!q) throw new Error(`the prompt does not ask for ${pattern}:\n${text}`);
  return h.call('query_entities', {
    entity,
    where: JSON.parse(q[1]!),
    select: JSON.parse(q[2]!),
    orderBy: q[3],
    top: Number(q[4]),
  });
}

export interface RawHarness {
  /** sends one JSON-RPC message as given (the SDK Client would refuse to send a malformed one) */
  send(message: Record<string, unknown>): Promise<void>;
  /** the answer to request `id`, or undefined if none came within `ms` */
  answer(id: string | number, ms?: number): Promise<any>;
  /** errors the server reported (its onerror) */
  serverErrors: string[];
  close(): Promise<void>;
}

/** A real server over an in-memory transport, driven with raw JSON-RPC messages; initialized. */
export async function connectRaw(emu: EmulatorHandle): Promise<RawHarness> {
  const deps = buildDeps(loadConfig({ env: { ...emulatorEnv(emu), LOG_LEVEL: 'silent' } }), {
    logDestination: new Writable({ write: (_c, _e, cb) => cb() }),
  });
  const server = createServer(deps, { caller: 'test' });
  const serverErrors: string[] = [];
  const [a, b] = InMemoryTransport.createLinkedPair();
  await connectServer(server, a);
  const previous = server.server.onerror;
  server.server.onerror = (err) => {
    serverErrors.push(err.message);
    previous?.(err);
  };
  const answers = new Map<string | number, any>();
  const waiting = new Map<string | number, (m: any) => void>();
  b.onmessage = (m: any) => {
    if (m.id === undefined) return;
    answers.set(m.id, m);
    waiting.get(m.id)?.(m);
  };
  await b.start();
  const harness: RawHarness = {
    send: (message) => b.send(message as never),
    answer: (id, ms = 2000) =>
      answers.has(id)
        ? Promise.resolve(answers.get(id))
        : new Promise((resolve) => {
            const timer = setTimeout(() => resolve(undefined), ms);
            waiting.set(id, (m) => {
              clearTimeout(timer);
              resolve(m);
            });
          }),
    serverErrors,
    async close() {
      await server.close();
      await deps.client.close();
    },
  };
  await harness.send({
    jsonrpc: '2.0',
    id: 'init',
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
  });
  await harness.answer('init');
  await harness.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return harness;
}

/**
 * A policy file for DYNAMICS_MCP_POLICY: the built-in policy with its tables changed by `edit` (a table left
 * out, a read list narrowed, writes confirmed).
 */
export function builtInPolicyWith(
  name: string,
  edit: (entities: typeof DEFAULT_POLICY.entities) => typeof DEFAULT_POLICY.entities,
): string {
  const file = join(tmpdir(), `dmcp-${name}-${process.pid}.json`);
  writeFileSync(file, JSON.stringify({ ...DEFAULT_POLICY, entities: edit({ ...DEFAULT_POLICY.entities }) }));
  return file;
}

/**
 * A client that supports elicitation (MCP's way to ask the user), answering every question with
 * `user.choice` (change it between calls) and keeping each message it was asked.
 */
export async function connectAsking(
  emu: EmulatorHandle,
  env: Record<string, string>,
): Promise<{ h: McpHarness; asked: string[]; user: { choice: 'accept' | 'decline' | 'cancel' } }> {
  const h = await connectInMemory(emu, { env, clientCapabilities: { elicitation: {} } });
  const asked: string[] = [];
  const user: { choice: 'accept' | 'decline' | 'cancel' } = { choice: 'decline' };
  h.client.setRequestHandler(ElicitRequestSchema, async (req) => {
    asked.push(req.params.message);
    return { action: user.choice, content: {} };
  });
  return { h, asked, user };
}

/** An empty audit log for DYNAMICS_MCP_AUDIT_LOG (one JSON line per write), and readers of its last entry and all. */
export function auditLog(name: string): {
  path: string;
  last: () => Promise<Record<string, any>>;
  all: () => Promise<Record<string, any>[]>;
} {
  const path = join(tmpdir(), `dmcp-${name}-audit-${process.pid}.jsonl`);
  writeFileSync(path, '');
  const all = async () =>
    (await readFile(path, 'utf8'))
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, any>);
  return { path, last: async () => (await all()).at(-1)!, all };
}

/**
 * The set-up the write-tool suites share: an emulator (scale 50) and a server writing the audit log at
 * `audit.path`, started before the suite, closed after it, with faults cleared before each test. `ready` hands
 * both over once started.
 */
export function serveWithAuditLog(audit: { path: string }, ready: (emu: EmulatorHandle, h: McpHarness) => void): void {
  let emu: EmulatorHandle | undefined;
  let h: McpHarness | undefined;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 50 });
    h = await connectInMemory(emu, { env: { DYNAMICS_MCP_AUDIT_LOG: audit.path } });
    ready(emu, h);
  });
  afterAll(async () => {
    await h?.close();
    await emu?.close();
  });
  beforeEach(() => emu?.clearFaults());
}
