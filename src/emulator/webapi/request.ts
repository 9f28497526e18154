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

/** The longest URL Dataverse accepts: 32,768 characters; inside a $batch, 65,536 (Compose HTTP requests, "Maximum URL length"). */
export const MAX_URL_LENGTH = 32_768;
export const MAX_BATCH_URL_LENGTH = 65_536;

/**
 * A URL over the limit. Microsoft documents the limit, not the answer; this is what HTTP.sys, in front of
 * the service, answers a URL it will not take: 414 with its own HTML page, not an OData error.
 */
export const urlTooLong = (): ApiResponse => ({
  status: 414,
  headers: { 'Content-Type': 'text/html; charset=us-ascii' },
  body: '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">\r\n<HTML><HEAD><TITLE>Request URL Too Long</TITLE>\r\n<META HTTP-EQUIV="Content-Type" Content="text/html; charset=us-ascii"></HEAD>\r\n<BODY><h2>Request URL Too Long</h2>\r\n<hr><p>HTTP Error 414. The request URL is too long.</p>\r\n</BODY></HTML>\r\n',
});

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
