import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { StdioLineTransport } from '../../src/transports/stdio-lines.js';
import { emulatorEnv } from '../helpers/client.js';
import { startTestEmulator } from '../helpers/emulator.js';
import { type HttpHarness, startHttpServer } from '../helpers/http.js';
import { connectRaw, type RawHarness } from '../helpers/mcp.js';

// The MCP specification (server/tools, "Error Handling") counts "malformed requests that fail to satisfy
// the request schema (e.g. CallToolRequest)" among protocol errors. Such a request must get an error answer
// that says what is wrong, never "internal error" with a zod issue list, and never silence.

const call = (id: number, params: unknown) => ({ jsonrpc: '2.0', id, method: 'tools/call', params });
const zodDump = /"code":\s*"invalid_type"|^\[\s*\{/m;

describe('malformed requests get an answer in words', () => {
  let emu: EmulatorHandle;
  let raw: RawHarness;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 5 });
    raw = await connectRaw(emu);
  });
  afterAll(async () => {
    await raw?.close();
    await emu?.close();
  });

  it.each([
    [
      'arguments sent as JSON text (a client forwarding a model’s raw tool call)',
      { name: 'query_entities', arguments: '{"entity":"account"}' },
      /^Invalid params for tools\/call: params\.arguments must be an object, not a string \(it holds JSON text: send the object itself, not a string\)\.$/,
    ],
    [
      'arguments as a list',
      { name: 'query_entities', arguments: ['account'] },
      /params\.arguments must be an object, not a list/,
    ],
    ['arguments null', { name: 'query_entities', arguments: null }, /params\.arguments must be an object, not null/],
    ['no tool name', { arguments: {} }, /^Invalid params for tools\/call: params\.name is required\.$/],
    ['a number for the name', { name: 7, arguments: {} }, /params\.name must be a string, not a number/],
  ])('tools/call with %s: -32602 naming the member', async (_, params, message) => {
    const id = Math.floor(Math.random() * 1e9);
    await raw.send(call(id, params));
    const a = await raw.answer(id);
    expect(a.error.code).toBe(-32602);
    expect(a.error.message).toMatch(message);
    expect(a.error.message).not.toMatch(zodDump);
  });

  it('a request whose _meta is not an object, or with a member JSON-RPC does not have, is answered -32600 (the SDK never answered it)', async () => {
    await raw.send(call(101, { name: 'describe_entity', arguments: {}, _meta: 'x' }));
    await raw.send({ ...call(102, { name: 'describe_entity', arguments: {} }), token: 'abc' });
    await raw.send(call(103, { name: 'describe_entity', arguments: {}, _meta: { progressToken: { a: 1 } } }));
    await raw.send(call(104.5, { name: 'describe_entity', arguments: {} }));
    expect((await raw.answer(104.5))?.error).toEqual({
      code: -32600,
      message: expect.stringMatching(/^Invalid request: id /),
    });
    const [a, b, c] = await Promise.all([raw.answer(101), raw.answer(102), raw.answer(103)]);
    expect(a?.error).toEqual({
      code: -32600,
      message: expect.stringMatching(/^Invalid request: params\._meta must be an object, not a string\.$/),
    });
    expect(b?.error).toEqual({
      code: -32600,
      message: 'Invalid request: the message has members a JSON-RPC request cannot have: token.',
    });
    expect(c?.error.code).toBe(-32600);
    expect(c?.error.message).toMatch(/^Invalid request: params\._meta\.progressToken is not valid/);
  });

  it('other methods too (resources/read with a number for the URI), and the session goes on', async () => {
    await raw.send({ jsonrpc: '2.0', id: 201, method: 'resources/read', params: { uri: 5 } });
    expect((await raw.answer(201)).error).toEqual({
      code: -32602,
      message: 'Invalid params for resources/read: params.uri must be a string, not a number.',
    });
    await raw.send(call(202, { name: 'query_entities', arguments: { entity: 'account', select: ['name'], top: 1 } }));
    const ok = await raw.answer(202);
    expect(ok.result.structuredContent.records).toHaveLength(1);
    expect(raw.serverErrors).toEqual([]);
  });

  it('over HTTP, a request the transport cannot parse is a 400 that names the problem and carries the id', async () => {
    const h: HttpHarness = await startHttpServer(emu, { DYNAMICS_MCP_AUTH: 'none' });
    try {
      const post = (body: unknown, session?: string) =>
        fetch(h.http.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            ...(session ? { 'mcp-session-id': session } : {}),
          },
          body: JSON.stringify(body),
        });
      const bad = await post(call(1, { name: 'describe_entity', arguments: {}, _meta: 'x' }));
      expect(bad.status).toBe(400);
      expect(await bad.json()).toEqual({
        jsonrpc: '2.0',
        id: 1,
        error: { code: -32600, message: 'Invalid request: params._meta must be an object, not a string.' },
      });
      const init = await post({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      });
      const session = init.headers.get('mcp-session-id')!;
      await init.text();
      await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, session);
      const wrong = await post(call(2, { name: 'query_entities', arguments: 'entity=account' }), session);
      const text = await wrong.text();
      expect(text).toContain(
        '"error":{"code":-32602,"message":"Invalid params for tools/call: params.arguments must be an object, not a string."}',
      );
    } finally {
      await h.close();
    }
  });
});

describe('stdio transport: lines it cannot use', () => {
  it('a line over the size limit is dropped on its own and the next request is answered', async () => {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const t = new StdioLineTransport(stdin, stdout, 1000);
    const got: unknown[] = [];
    const errors: string[] = [];
    t.onmessage = (m) => got.push(m);
    t.onerror = (e) => errors.push(e.message);
    await t.start();
    stdin.write(`{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"${'x'.repeat(600)}`);
    stdin.write(`${'y'.repeat(600)}"}}\n{"jsonrpc":"2.0","id":2,"method":"ping"}\n`);
    // one message split across writes, and CRLF line ends
    stdin.write('{"jsonrpc":"2.0",');
    stdin.write('"id":3,"method":"ping"}\r\n\n');
    await new Promise((r) => setImmediate(r));
    expect(errors).toEqual(['a message longer than 1000 bytes was dropped unread']);
    expect(got).toEqual([
      { jsonrpc: '2.0', id: 2, method: 'ping' },
      { jsonrpc: '2.0', id: 3, method: 'ping' },
    ]);
    await t.close();
  });

  it('a request over the limit is still answered when its id stands first or last, the way clients write it', async () => {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const t = new StdioLineTransport(stdin, stdout, 1000);
    const answers: string[] = [];
    stdout.on('data', (d: Buffer) => answers.push(...d.toString().trim().split('\n')));
    t.onerror = () => {};
    await t.start();
    const pad = 'x'.repeat(1500);
    // id right after jsonrpc (most clients), in one chunk
    stdin.write(`{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"a","arguments":{"t":"${pad}"}}}\n`);
    // id last (the TypeScript SDK), across chunks
    stdin.write(`{"method":"tools/call","params":{"name":"a","arguments":{"t":"${pad}`);
    stdin.write(`${pad}"}},"jsonrpc":"2.0","id":"req-12"}\n`);
    // an "id" inside the params is not the request's: no answer rather than a wrong one
    stdin.write(`{"method":"tools/call","params":{"arguments":{"t":"${pad}","id":13}}}\n`);
    await new Promise((r) => setImmediate(r));
    const parsed = answers.map((l) => JSON.parse(l));
    expect(parsed.map((a) => a.id)).toEqual([11, 'req-12']);
    expect(parsed[0].error).toEqual({
      code: -32600,
      message: expect.stringMatching(
        /^Invalid request: the message is longer than 1000 bytes, this server's limit for one message; none of it was read\./,
      ),
    });
    await t.close();
  });

  it('a send after the client closed its end fails at once instead of waiting for a drain that never comes', async () => {
    const stdout = new PassThrough();
    const t = new StdioLineTransport(new PassThrough(), stdout);
    await t.start();
    stdout.destroy();
    await expect(t.send({ jsonrpc: '2.0', id: 1, result: {} })).rejects.toThrow('the MCP client has gone');
    await t.close();
  });

  it('the built binary answers a request the SDK would have left unanswered', async () => {
    const emu = await startTestEmulator({ scale: 5 });
    const child = spawn(process.execPath, [join(import.meta.dirname, '..', '..', 'dist', 'index.js')], {
      env: { PATH: process.env.PATH!, NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS!, ...emulatorEnv(emu) },
    });
    try {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      const send = (m: object) => child.stdin.write(`${JSON.stringify(m)}\n`);
      send({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      });
      send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      send(call(2, { name: 'describe_entity', arguments: {}, _meta: null }));
      send({ jsonrpc: '2.0', id: 3, method: 'ping' });
      for (let i = 0; i < 200 && out.split('\n').length < 4; i++) await new Promise((r) => setTimeout(r, 25));
      const answers = out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(answers.find((a) => a.id === 2)).toEqual({
        jsonrpc: '2.0',
        id: 2,
        error: { code: -32600, message: 'Invalid request: params._meta must be an object, not null.' },
      });
      expect(answers.find((a) => a.id === 3)).toEqual({ jsonrpc: '2.0', id: 3, result: {} });
    } finally {
      child.kill();
      await emu.close();
    }
  });
});
