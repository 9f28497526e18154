/** The Web API's view of one HTTP request or one $batch part. */
export interface ApiRequest {
  method: string;
  /** absolute URL as the client addressed it (scheme and Host from the request, used for links) */
  url: URL;
  /** header names lower-cased */
  headers: Record<string, string>;
  body: string;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body?: string;
}

export const API_PREFIX = '/api/data/v9.2';

/** Splits a raw query string into decoded options, keeping the raw parts for building nextLinks. */
export function parseQuery(search: string): { options: Map<string, string>; raw: { key: string; part: string }[] } {
  const options = new Map<string, string>();
  const raw: { key: string; part: string }[] = [];
  const text = search.startsWith('?') ? search.slice(1) : search;
  if (!text) return { options, raw };
  for (const part of text.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    let key: string;
    let value: string;
    try {
      key = decode(eq === -1 ? part : part.slice(0, eq));
      value = eq === -1 ? '' : decode(part.slice(eq + 1));
    } catch {
      throw new Error(`The query string contains an invalid percent-encoding near '${part.slice(0, 40)}'.`);
    }
    options.set(key, value);
    raw.push({ key, part });
  }
  return { options, raw };
}
