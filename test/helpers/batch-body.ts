/** Builds a multipart/mixed $batch body the way BATCH documents it: parts, and change sets of parts. */
export function batchBody(boundary: string, parts: (string | { changeset: string; parts: string[] })[]): string {
  const http = (p: string) => `Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n${p}`;
  let out = '';
  for (const p of parts) {
    if (typeof p === 'string') out += `--${boundary}\r\n${http(p)}\r\n`;
    else {
      out += `--${boundary}\r\nContent-Type: multipart/mixed; boundary=${p.changeset}\r\n\r\n`;
      for (const cp of p.parts) out += `--${p.changeset}\r\n${http(cp)}\r\n`;
      out += `--${p.changeset}--\r\n`;
    }
  }
  return `${out}--${boundary}--\r\n`;
}

/** a POST part creating `body`, with its Content-ID where given */
export const postPart = (url: string, body: unknown, contentId?: string) =>
  `${contentId ? `Content-ID: ${contentId}\r\n` : ''}\r\nPOST ${url} HTTP/1.1\r\nContent-Type: application/json; type=entry\r\n\r\n${JSON.stringify(body)}\r\n`;

/** a GET part */
export const getPart = (url: string) => `\r\nGET ${url} HTTP/1.1\r\nAccept: application/json\r\n\r\n`;
