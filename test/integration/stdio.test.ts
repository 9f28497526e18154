import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { emulatorEnv } from '../helpers/client.js';
import { startTestEmulator } from '../helpers/emulator.js';

const BIN = join(import.meta.dirname, '..', '..', 'dist', 'index.js');

/** The built binary, configured only through its environment (NODE_EXTRA_CA_CERTS is the only TLS trust). */
function childEnv(emu: EmulatorHandle): Record<string, string> {
  return {
    PATH: process.env.PATH!,
    NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS!,
    ...emulatorEnv(emu),
    LOG_LEVEL: 'debug',
  };
}

function rpc(child: ChildProcessWithoutNullStreams, msg: object): void {
  child.stdin.write(`${JSON.stringify(msg)}\n`);
}

describe('stdio: the built binary', () => {
  let emu: EmulatorHandle;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 10 });
  });
  afterAll(async () => emu.close());

  it('stdout carries only JSON-RPC (every line read), logs go to stderr (a stray stdin line among them), stdin close ends the process with 0', async () => {
    const child = spawn(process.execPath, [BIN], { env: childEnv(emu) });
    const out: string[] = [];
    let buffer = '';
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      let i = buffer.indexOf('\n');
      while (i >= 0) {
        out.push(buffer.slice(0, i));
        buffer = buffer.slice(i + 1);
        i = buffer.indexOf('\n');
      }
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const until = async (n: number) => {
      for (let i = 0; i < 200 && out.length < n; i++) await new Promise((r) => setTimeout(r, 25));
    };
    rpc(child, {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    });
    await until(1);
    rpc(child, { jsonrpc: '2.0', method: 'notifications/initialized' });
    // a wrapper script that prints to the server's stdin: dropped, logged, and the session goes on
    child.stdin.write('Starting dynamics-mcp...\n');
    rpc(child, {
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'query_entities', arguments: { entity: 'account', select: ['name'], top: 2 } },
    });
    rpc(child, {
      jsonrpc: '2.0',
      id: 3,
      method: 'tools/call',
      params: { name: 'query_entities', arguments: { entity: 'account', select: ['nosuch'] } },
    });
    await until(3);
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.stdin.end();
    expect(await exit).toBe(0);
    expect(out.length).toBe(3);
    const msgs = out.map((l) => JSON.parse(l)).sort((a, b) => a.id - b.id);
    for (const m of msgs) expect(m.jsonrpc).toBe('2.0');
    expect(msgs[0].result.serverInfo.name).toBe('dynamics-mcp');
    expect(msgs[1].result.structuredContent.records).toHaveLength(2);
    expect(msgs[2].result.isError).toBe(true);
    expect(err).toContain('serving MCP over stdio');
    expect(err).toMatch(
      /"level":40,[^\n]*"error":"Unexpected token[^\n]*a message from the MCP client could not be read/,
    );
    expect(err).not.toContain(emu.clientSecret);
  });

  it('works through the SDK StdioClientTransport, and stops on SIGTERM', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN],
      env: childEnv(emu),
      stderr: 'pipe',
    });
    const client = new Client({ name: 'stdio-test', version: '1.0.0' });
    await client.connect(transport);
    const tools = await client.listTools();
    expect(tools.tools.length).toBe(12);
    const r = (await client.callTool({ name: 'describe_entity', arguments: { entity: 'lead' } })) as any;
    expect(r.structuredContent.entity.name).toBe('lead');
    const pid = transport.pid!;
    const exited = new Promise<void>((resolve) => (transport.onclose = () => resolve()));
    process.kill(pid, 'SIGTERM');
    await exited;
  });

  it('signs in to Dynamics once the client has initialised, so the first tool call does not wait for a token; a failure there is logged, not fatal', async () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const since = (mark: number, service: string) =>
      emu
        .requests()
        .slice(mark)
        .filter((r) => r.service === service);
    const start = async () => {
      const mark = emu.requests().length;
      const transport = new StdioClientTransport({
        command: process.execPath,
        args: [BIN],
        env: childEnv(emu),
        stderr: 'pipe',
      });
      const log = { text: '' };
      transport.stderr!.on('data', (d: Buffer) => {
        log.text += d.toString();
      });
      const client = new Client({ name: 'warm-test', version: '1.0.0' });
      await client.connect(transport);
      // nothing is called: the server signs in by itself (the WhoAmI answered or refused marks the end)
      for (let i = 0; i < 400 && !/signed in to Dynamics|could not be reached at start-up/.test(log.text); i++)
        await sleep(25);
      return { client, log, mark };
    };
    const warm = await start();
    expect(since(warm.mark, 'authority').filter((r) => r.method === 'POST' && r.url.includes('/token'))).toHaveLength(
      1,
    );
    expect(since(warm.mark, 'webapi').map((r) => `${r.method} ${r.url} ${r.status}`)).toEqual([
      'GET /api/data/v9.2/WhoAmI() 200',
    ]);
    expect(warm.log.text).toMatch(/"level":30,[^\n]*"ms":\d+,"msg":"signed in to Dynamics"/);
    const first = emu.requests().length;
    const r = (await warm.client.callTool({ name: 'query_entities', arguments: { entity: 'account', top: 1 } })) as any;
    expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
    expect(since(first, 'authority')).toEqual([]);
    await warm.client.close();

    // Dynamics refusing at start-up: a warning that says so, and the first tool call is served as any other
    emu.addFault({
      match: { method: 'GET', path: '/api/data/v9.2/WhoAmI' },
      response: {
        status: 403,
        body: { error: { code: '0x80040220', message: 'Principal user is missing prvReadUser privilege.' } },
      },
    });
    const refused = await start();
    expect(refused.log.text).toMatch(
      /"level":40,[^\n]*prvReadUser[^\n]*"msg":"Dynamics could not be reached at start-up; each tool call will try again"/,
    );
    const after = (await refused.client.callTool({
      name: 'query_entities',
      arguments: { entity: 'account', top: 1 },
    })) as any;
    expect(after.isError, JSON.stringify(after.content)).toBeFalsy();
    expect(refused.log.text).not.toContain(emu.clientSecret);
    await refused.client.close();
  });

  it('a configuration problem is explained on stderr with exit code 1, not a stack trace', async () => {
    const child = spawn(process.execPath, [BIN], {
      env: {
        PATH: process.env.PATH!,
        DYNAMICS_URL: emu.dynamicsUrl,
        AZURE_TENANT_ID: 'nope',
        AZURE_CLIENT_ID: emu.clientId,
        AZURE_CLIENT_SECRET: 'x',
      },
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(err).toContain('AZURE_TENANT_ID must be a GUID');
    expect(err).not.toMatch(/\n\s+at /);
  });

  it('--demo serves the built-in organisation with no configuration at all', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, '--demo'],
      env: { PATH: process.env.PATH! },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'demo-test', version: '1.0.0' });
    await client.connect(transport);
    const r = (await client.callTool({ name: 'pipeline_summary', arguments: {} })) as any;
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent.totals.count).toBeGreaterThan(0);
    await client.close();
  });
});
