import type { Readable, Writable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, type JSONRPCMessage, JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import { malformedRequestAnswer } from './malformed.js';

/** The SDK's limit for one stdio message. */
export const MAX_LINE_BYTES = 10 * 1024 * 1024;

/** how much of a dropped line's start and end is kept to look for its id */
const ID_WINDOW = 200;
const ID_VALUE = String.raw`(-?\d+|"(?:[^"\\]|\\.){0,100}")`;
const HEAD_ID = new RegExp(String.raw`^\s*\{\s*"jsonrpc"\s*:\s*"2\.0"\s*,\s*"id"\s*:\s*${ID_VALUE}`);
const TAIL_ID = new RegExp(String.raw`,\s*"id"\s*:\s*${ID_VALUE}\s*\}\s*\r?$`);
const lastBytes = (b: Buffer) => b.subarray(Math.max(0, b.length - ID_WINDOW)).toString('latin1');
const sizeOf = (n: number) => (n >= 1 << 20 ? `${Math.round(n / (1 << 20))} MB` : `${n} bytes`);

/**
 * MCP over stdio: one JSON-RPC message per line. It reads and writes like the SDK's StdioServerTransport,
 * which we replaced for what it does with a line it cannot use: a request it cannot parse as JSON-RPC (a
 * `_meta` that is not an object, an unknown top-level member) went unanswered, so the client waited for ever,
 * and a line over the size limit closed the transport, ending the session. Here such a request gets an error
 * answer with its id, an over-long line is dropped on its own (and answered, when its id can be read safely),
 * and anything else unreadable is reported to onerror (logged) while the session goes on.
 */
export class StdioLineTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** the start of a line not yet ended by a newline */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** inside a line already over the limit: drop bytes until its newline */
  private skipping = false;
  /** the first and latest bytes of the line being dropped, where a request's id can be found */
  private dropped = { head: '', tail: '' };

  constructor(
    private readonly stdin: Readable = process.stdin,
    private readonly stdout: Writable = process.stdout,
    private readonly maxLineBytes = MAX_LINE_BYTES,
  ) {}

  async start(): Promise<void> {
    this.stdin.on('data', this.onData);
    this.stdin.on('error', this.onStreamError);
    // the client closed its end of our stdout (EPIPE): without a listener the error would end the process
    // with a stack trace; stdin's end follows and shuts the server down
    this.stdout.on('error', this.onStreamError);
  }

  async send(message: JSONRPCMessage): Promise<void> {
    // the client has gone (its end of the pipe closed): a write would never drain
    if (!this.stdout.writable) throw new Error('stdout is closed: the MCP client has gone');
    if (this.stdout.write(`${JSON.stringify(message)}\n`)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.stdout.off('drain', done);
        this.stdout.off('close', done);
        resolve();
      };
      this.stdout.once('drain', done);
      this.stdout.once('close', done);
    });
  }

  async close(): Promise<void> {
    this.stdin.off('data', this.onData);
    this.stdin.off('error', this.onStreamError);
    this.stdout.off('error', this.onStreamError);
    if (this.stdin.listenerCount('data') === 0) this.stdin.pause();
    this.pending = [];
    this.pendingBytes = 0;
    this.onclose?.();
  }

  private readonly onStreamError = (err: Error) => this.onerror?.(err);

  private readonly onData = (chunk: Buffer) => {
    let from = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, from)) {
      const tail = chunk.subarray(from, nl);
      from = nl + 1;
      if (this.skipping) {
        this.skipping = false;
        this.answerDropped(this.dropped.head, `${this.dropped.tail}${lastBytes(tail)}`);
        continue;
      }
      if (this.tooLong(tail.length, tail)) {
        this.answerDropped(this.dropped.head, lastBytes(tail));
        continue;
      }
      const line = this.pendingBytes === 0 ? tail : Buffer.concat([...this.pending, tail]);
      this.pending = [];
      this.pendingBytes = 0;
      this.handleLine(line);
    }
    if (from === chunk.length) return;
    const rest = chunk.subarray(from);
    if (this.skipping) {
      this.dropped.tail = `${this.dropped.tail}${lastBytes(rest)}`.slice(-ID_WINDOW);
      return;
    }
    if (this.tooLong(rest.length, rest)) {
      this.dropped.tail = lastBytes(rest);
      this.skipping = true;
      return;
    }
    this.pending.push(rest);
    this.pendingBytes += rest.length;
  };

  /** Drops the line being read (and says so) when `more` bytes would take it over the limit. */
  private tooLong(more: number, next: Buffer): boolean {
    if (this.pendingBytes + more <= this.maxLineBytes) return false;
    const first = this.pending[0] ?? next;
    this.dropped = { head: first.subarray(0, ID_WINDOW).toString('latin1'), tail: '' };
    this.pending = [];
    this.pendingBytes = 0;
    this.onerror?.(new Error(`a message longer than ${this.maxLineBytes} bytes was dropped unread`));
    return true;
  }

  /**
   * A dropped request still gets an answer when its id can be read without parsing it: as the member right
   * after "jsonrpc" at the start ({"jsonrpc":"2.0","id":7,...}, as most clients write it) or as the last
   * member (...,"id":7}, as the TypeScript SDK writes it). Either position can only be the top level.
   */
  private answerDropped(head: string, tail: string): void {
    const m = HEAD_ID.exec(head) ?? TAIL_ID.exec(tail);
    if (!m) return;
    let id: string | number;
    try {
      id = JSON.parse(m[1]!) as string | number;
    } catch {
      return;
    }
    this.send({
      jsonrpc: '2.0',
      id,
      error: {
        code: ErrorCode.InvalidRequest,
        message: `Invalid request: the message is longer than ${sizeOf(this.maxLineBytes)}, this server's limit for one message; none of it was read. Send less in one call.`,
      },
    }).catch((err: Error) => this.onerror?.(err));
  }

  private handleLine(line: Buffer): void {
    const text = line.toString('utf8').replace(/\r$/, '');
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      this.onerror?.(err as Error);
      return;
    }
    const parsed = JSONRPCMessageSchema.safeParse(value);
    if (parsed.success) {
      this.onmessage?.(parsed.data);
      return;
    }
    const answer = malformedRequestAnswer(value);
    if (answer) this.send(answer).catch((err: Error) => this.onerror?.(err));
    else this.onerror?.(new Error(`not a JSON-RPC message: ${text.slice(0, 200)}`));
  }
}
