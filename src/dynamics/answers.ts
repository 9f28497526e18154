/**
 * Reading successful Web API answers. A 2xx answer is not always Dataverse's: a proxy, gateway or captive
 * portal between this server and Dynamics can answer 200 with an HTML page, and an answer can be cut
 * short. Each is a clear error that names what came back, never "failed unexpectedly" and never an empty
 * result that looks like "no records".
 */
import { DynamicsMcpError } from '../errors.js';

type Row = Record<string, unknown>;

interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** What a body that is not the expected JSON looks like, in a few words a person can act on. */
export function describeBody(headers: Record<string, string>, text: string): string {
  const type = headers['content-type']?.split(';')[0]?.trim();
  if (!text.trim()) return 'an empty body';
  if (/html/i.test(type ?? '') || /^\s*</.test(text)) {
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(text)?.[1];
    const words = (title ?? text.replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]*>/g, ' '))
      .replace(/\s+/g, ' ')
      .trim();
    return `an HTML page${words ? ` ("${cut(words, 120)}")` : ''}`;
  }
  return `${type ? `${type}: ` : ''}"${cut(text.replace(/\s+/g, ' ').trim(), 160)}"`;
}

/** A redirect's target as it may be shown: origin and path (a sign-in URL's query carries request state). */
export function redirectTarget(location: string | undefined): string {
  try {
    const u = new URL(location ?? '');
    return `${u.origin}${u.pathname}`;
  } catch {
    return 'another address';
  }
}

/** An HTTP client's response headers as one string each (a repeated header joined, as HTTP allows). */
export function flatHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…` : s);

/** An answer that cannot be Dataverse's: says what came back, and whether trying again is safe. */
export function foreignAnswer(
  r: Answer,
  what: string,
  why: string,
  hint = 'Try again; if it repeats, check DYNAMICS_URL and the network path (`dynamics-mcp doctor` checks both).',
): DynamicsMcpError {
  return new DynamicsMcpError(
    'server',
    `Dynamics answered ${what} with HTTP ${r.status} but ${why}: ${describeBody(r.headers, r.text)}.`,
    `Something between this server and Dataverse (a proxy, gateway or firewall) may have answered, or the answer was cut short. ${hint}`,
    { status: r.status, retryable: true },
  );
}

/** The JSON of a 2xx answer. */
export function jsonOf(r: Answer, what: string): unknown {
  try {
    return JSON.parse(r.text);
  } catch {
    throw foreignAnswer(r, what, 'not with JSON');
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One record (GET or PATCH with return=representation). */
export function rowOf(r: Answer, what: string): Row {
  const j = jsonOf(r, what);
  if (!isObject(j) || Array.isArray(j.value)) throw foreignAnswer(r, what, 'not with a record');
  return j as Row;
}

/** A collection page: its rows, and the paging and count annotations. */
export function pageOf(r: Answer, what: string): { rows: Row[]; next?: string; count?: number; capped?: boolean } {
  const j = jsonOf(r, what);
  if (!isObject(j) || !Array.isArray(j.value) || !j.value.every(isObject))
    throw foreignAnswer(r, what, 'not with a list of records ("value")');
  const next = j['@odata.nextLink'];
  const count = j['@odata.count'];
  return {
    rows: j.value as Row[],
    next: typeof next === 'string' ? next : undefined,
    count: typeof count === 'number' ? count : undefined,
    capped: j['@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded'] === true,
  };
}
