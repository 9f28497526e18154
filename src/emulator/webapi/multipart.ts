/** multipart/mixed for $batch (BATCH): parsing requests and writing responses. */

export interface HttpPart {
  kind: 'http';
  contentId?: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface ChangeSet {
  kind: 'changeset';
  parts: HttpPart[];
}

export type BatchItem = HttpPart | ChangeSet;

export class MultipartError extends Error {}

export function boundaryOf(contentType: string | undefined): string | undefined {
  const m = /boundary="?([^";]+)"?/i.exec(contentType ?? '');
  return m?.[1];
}

function splitHead(text: string): { head: string[]; body: string } {
  const m = /\r?\n\r?\n/.exec(text);
  if (!m) return { head: text.split(/\r?\n/).filter(Boolean), body: '' };
  return { head: text.slice(0, m.index).split(/\r?\n/).filter(Boolean), body: text.slice(m.index + m[0].length) };
}

function headerMap(lines: string[]): Record<string, string> {
  const h: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i > 0) h[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return h;
}

function splitParts(body: string, boundary: string): string[] {
  const delimiter = `--${boundary}`;
  const pieces = body.split(delimiter);
  if (pieces.length < 2) throw new MultipartError(`The batch body does not contain the boundary '${boundary}'.`);
  const parts: string[] = [];
  let closed = false;
  for (let i = 1; i < pieces.length; i++) {
    const piece = pieces[i]!;
    if (piece.startsWith('--')) {
      closed = true;
      break;
    }
    parts.push(piece.replace(/^[ \t]*\r?\n/, '').replace(/\r?\n$/, ''));
  }
  if (!closed) throw new MultipartError(`The batch body is missing its closing delimiter '--${boundary}--'.`);
  return parts;
}

function parseHttpPart(text: string, partHeaders: Record<string, string>): HttpPart {
  const { body: inner } = { body: text };
  const { head, body } = splitHead(inner);
  const requestLine = head.shift();
  const m = requestLine ? /^([A-Z]+) (\S+)(?: HTTP\/1\.1)?$/.exec(requestLine.trim()) : null;
  if (!m) throw new MultipartError(`A batch part has no valid request line: '${requestLine ?? ''}'.`);
  return {
    kind: 'http',
    contentId: partHeaders['content-id'],
    method: m[1]!,
    url: m[2]!,
    headers: headerMap(head),
    body: body.replace(/\r?\n$/, ''),
  };
}

export function parseBatch(body: string, boundary: string): BatchItem[] {
  const items: BatchItem[] = [];
  for (const part of splitParts(body, boundary)) {
    const { head, body: content } = splitHead(part);
    const headers = headerMap(head);
    const type = headers['content-type'] ?? '';
    if (type.startsWith('multipart/mixed')) {
      const csBoundary = boundaryOf(type);
      if (!csBoundary) throw new MultipartError('A change set has no boundary.');
      const parts: HttpPart[] = [];
      for (const cs of splitParts(content, csBoundary)) {
        const { head: csHead, body: csBody } = splitHead(cs);
        const csHeaders = headerMap(csHead);
        if (!(csHeaders['content-type'] ?? '').startsWith('application/http'))
          throw new MultipartError(
            'Change set parts must have Content-Type: application/http (nested batches are not allowed).',
          );
        parts.push(parseHttpPart(csBody, csHeaders));
      }
      items.push({ kind: 'changeset', parts });
    } else if (type.startsWith('application/http')) {
      items.push(parseHttpPart(content, headers));
    } else {
      throw new MultipartError(`Unsupported batch part Content-Type '${type}'.`);
    }
  }
  return items;
}

const REASONS: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  304: 'Not Modified',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

export interface PartResponse {
  contentId?: string;
  status: number;
  headers: Record<string, string>;
  body?: string;
}

export function writeHttpPart(r: PartResponse): string {
  const lines = ['Content-Type: application/http', 'Content-Transfer-Encoding: binary'];
  if (r.contentId) lines.push(`Content-ID: ${r.contentId}`);
  lines.push('', `HTTP/1.1 ${r.status} ${REASONS[r.status] ?? 'Unknown'}`, 'OData-Version: 4.0');
  for (const [k, v] of Object.entries(r.headers)) lines.push(`${k}: ${v}`);
  lines.push('', r.body ?? '');
  return lines.join('\r\n');
}

export function writeMultipart(boundary: string, parts: string[]): string {
  return `${parts.map((p) => `--${boundary}\r\n${p}\r\n`).join('')}--${boundary}--\r\n`;
}
