import { randomUUID } from 'node:crypto';
import { foreignAnswer } from './answers.js';
import type { Transport } from './transport.js';

/** One operation inside a $batch (BATCH). */
export interface BatchOperation {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** path relative to the service root, e.g. accounts?$select=name, or $1 for a Content-ID reference */
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  contentId?: string;
}

export interface BatchPartResult {
  contentId?: string;
  status: number;
  headers: Record<string, string>;
  body: string;
}

export const BATCH_LIMIT = 1000;

function writePart(op: BatchOperation, serviceRoot: string): string {
  const lines = ['Content-Type: application/http', 'Content-Transfer-Encoding: binary'];
  if (op.contentId) lines.push(`Content-ID: ${op.contentId}`);
  const url = op.url.startsWith('$') ? op.url : `${serviceRoot}/${op.url}`;
  lines.push('', `${op.method} ${url} HTTP/1.1`);
  const headers: Record<string, string> = { ...op.headers };
  if (op.body !== undefined) headers['Content-Type'] = 'application/json; type=entry';
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  lines.push('', op.body === undefined ? '' : JSON.stringify(op.body));
  return lines.join('\r\n');
}

/**
 * Encodes operations as multipart/mixed. Writes go in one change set when `atomic` (all or nothing);
 * otherwise every part stands alone (for idempotent bulk writes with continue-on-error).
 */
export function encodeBatch(
  ops: BatchOperation[],
  serviceRoot: string,
  atomic: boolean,
): { contentType: string; body: string } {
  if (ops.length > BATCH_LIMIT)
    throw new RangeError(`A $batch holds at most ${BATCH_LIMIT} operations (got ${ops.length}).`);
  const boundary = `batch_${randomUUID()}`;
  let body = '';
  if (atomic) {
    const cs = `changeset_${randomUUID()}`;
    body += `--${boundary}\r\nContent-Type: multipart/mixed; boundary=${cs}\r\n\r\n`;
    for (const op of ops) body += `--${cs}\r\n${writePart(op, serviceRoot)}\r\n`;
    body += `--${cs}--\r\n`;
  } else {
    for (const op of ops) body += `--${boundary}\r\n${writePart(op, serviceRoot)}\r\n`;
  }
  body += `--${boundary}--\r\n`;
  return { contentType: `multipart/mixed; boundary=${boundary}`, body };
}

function parseHttp(text: string, contentId: string | undefined): BatchPartResult {
  const lines = text.split(/\r?\n/);
  const statusLine = lines.shift() ?? '';
  const m = /^HTTP\/1\.1 (\d{3})/.exec(statusLine);
  if (!m) throw new Error(`A $batch response part has no status line: '${statusLine.slice(0, 80)}'.`);
  const headers: Record<string, string> = {};
  let i = 0;
  for (; i < lines.length && lines[i] !== ''; i++) {
    const c = lines[i]!.indexOf(':');
    if (c > 0) headers[lines[i]!.slice(0, c).trim().toLowerCase()] = lines[i]!.slice(c + 1).trim();
  }
  return {
    contentId,
    status: Number(m[1]),
    headers,
    body: lines
      .slice(i + 1)
      .join('\n')
      .trim(),
  };
}

function splitParts(body: string, boundary: string): string[] {
  const pieces = body.split(`--${boundary}`);
  const out: string[] = [];
  for (let i = 1; i < pieces.length; i++) {
    const p = pieces[i]!;
    if (p.startsWith('--')) break;
    out.push(p.replace(/^\r?\n/, ''));
  }
  return out;
}

/** Decodes a $batch response (nested change sets flattened, in request order). */
export function decodeBatch(contentType: string, body: string): BatchPartResult[] {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (!boundary) throw new Error('The $batch response has no multipart boundary.');
  const results: BatchPartResult[] = [];
  for (const part of splitParts(body, boundary)) {
    const sep = /\r?\n\r?\n/.exec(part);
    const head = sep ? part.slice(0, sep.index) : part;
    const rest = sep ? part.slice(sep.index + sep[0].length) : '';
    const type = /content-type:\s*([^\r\n]+)/i.exec(head)?.[1] ?? '';
    if (type.startsWith('multipart/mixed')) {
      results.push(...decodeBatch(type, rest));
      continue;
    }
    const contentId = /content-id:\s*(\S+)/i.exec(head)?.[1];
    results.push(parseHttp(rest, contentId));
  }
  return results;
}

/**
 * Sends operations as one $batch with continue-on-error (each part answers for itself) and decodes the
 * answers. `attempts` > 1 means the batch was sent again after a lost answer.
 */
export async function sendBatch(
  transport: Transport,
  serviceRoot: string,
  ops: BatchOperation[],
  signal?: AbortSignal,
): Promise<{ parts: BatchPartResult[]; attempts: number }> {
  const batch = encodeBatch(ops, serviceRoot, false);
  const r = await transport.send({
    method: 'POST',
    path: `${new URL(serviceRoot).pathname}/$batch`,
    headers: { 'content-type': batch.contentType, prefer: 'odata.continue-on-error' },
    body: batch.body,
    idempotent: true,
    signal,
  });
  const type = r.headers['content-type'] ?? '';
  if (!/^multipart\/mixed/i.test(type) || !/boundary=/i.test(type))
    throw foreignAnswer(r, 'a $batch request', 'not with the multipart answer $batch gives');
  return { parts: decodeBatch(type, r.text), attempts: r.attempts };
}
