import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

/**
 * The least an MCP client can do over stdio: write a JSON-RPC line, read the answer's line and parse it.
 * P1 compares our server with one Web API request that is read and parsed (undici's body.json()), so the
 * client side of the comparison does the same work; the SDK's Client also validates every result with zod
 * and the tool's output schema, which is the assistant's cost, not the server's (P1c shows it).
 */
export class StdioRpc {
  private readonly child: ChildProcessByStdio<Writable, Readable, null>;
  private readonly waiting = new Map<number, { resolve: (m: RpcAnswer) => void; reject: (e: Error) => void }>();
  private nextId = 1;

  constructor(command: string, args: string[], env: Record<string, string>) {
    this.child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'ignore'] });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const msg = JSON.parse(line) as RpcAnswer;
      if (typeof msg.id !== 'number') return; // notifications
      this.waiting.get(msg.id)?.resolve(msg);
      this.waiting.delete(msg.id);
    });
    const fail = (why: string) => {
      for (const w of this.waiting.values()) w.reject(new Error(why));
      this.waiting.clear();
    };
    this.child.once('exit', (code) => fail(`server exited (${code}) before answering`));
    this.child.once('error', (err) => fail(`server could not be started: ${err.message}`));
  }

  request(method: string, params: unknown = {}): Promise<RpcAnswer> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  }

  notify(method: string): void {
    this.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method })}\n`);
  }

  async initialize(): Promise<void> {
    const r = await this.request('initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'bench', version: '1' },
    });
    if (r.error) throw new Error(`initialize failed: ${r.error.message}`);
    this.notify('notifications/initialized');
  }

  /** A tool call that must succeed: a failure would make the timing meaningless. */
  async callTool(name: string, args: unknown): Promise<RpcAnswer> {
    const r = await this.request('tools/call', { name, arguments: args });
    if (r.error || (r.result as { isError?: boolean } | undefined)?.isError)
      throw new Error(`${name} failed: ${JSON.stringify(r.error ?? r.result)}`);
    return r;
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin.end();
    await exited;
  }
}

export interface RpcAnswer {
  id?: number;
  result?: unknown;
  error?: { code: number; message: string };
}
