/**
 * The paging cookie inside `$skiptoken`, in the documented shape (PAGE):
 *   <cookie pagenumber="2" pagingcookie="%3ccookie%20page%3d%221%22%3e%3caccountid%20last%3d%22%7bGUID%7d%22%20first%3d%22%7bGUID%7d%22%20%2f%3e%3c%2fcookie%3e" istracking="False" />
 * The inner cookie is URL-encoded once (lower-case hex), the whole token once more in the nextLink.
 * For ordered queries the inner cookie also carries each order column's last/first value before the key.
 */

export interface CookieKey {
  name: string;
  last: string | null;
  first: string | null;
}

export interface PagingCookie {
  pageNumber: number;
  keys: CookieKey[];
}

const innerEncode = (s: string) =>
  s.replace(/[^A-Za-z0-9\-_.!*()]/g, (c) =>
    [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''),
  );

const xmlEscape = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const xmlUnescape = (s: string) =>
  s.replace(/&(amp|lt|gt|quot);/g, (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"' })[e]!);

const braceGuid = (id: string) => `{${id.toUpperCase()}}`;

/** The `$skiptoken` value, before the nextLink's own URL encoding. */
export function encodeSkipToken(c: PagingCookie, idAttribute: string): string {
  const elements = c.keys
    .map((k) => {
      const isId = k.name === idAttribute;
      const attr = (label: string, v: string | null) =>
        v === null ? '' : ` ${label}="${xmlEscape(isId ? braceGuid(v) : v)}"`;
      return `<${k.name}${attr('last', k.last)}${attr('first', k.first)} />`;
    })
    .join('');
  const inner = `<cookie page="${c.pageNumber - 1}">${elements}</cookie>`;
  return `<cookie pagenumber="${c.pageNumber}" pagingcookie="${innerEncode(inner)}" istracking="False" />`;
}

/** Parses a `$skiptoken` (already URL-decoded once by the query-string parser). Returns null when malformed. */
export function decodeSkipToken(token: string): PagingCookie | null {
  const outer = /^<cookie pagenumber="(\d+)" pagingcookie="([^"]*)"(?: istracking="(?:True|False)")? ?\/>$/.exec(
    token.trim(),
  );
  if (!outer) return null;
  let inner: string;
  try {
    inner = decodeURIComponent(outer[2]!);
  } catch {
    return null;
  }
  const body = /^<cookie page="\d+"(?: countOfRecords="\d+")?>(.*)<\/cookie>$/s.exec(inner);
  if (!body) return null;
  const keys: CookieKey[] = [];
  const re = /<([A-Za-z_][A-Za-z0-9_]*)((?:\s+(?:last|first)="[^"]*")*)\s*\/>/gy;
  let rest = body[1]!;
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  let consumed = 0;
  // biome-ignore lint/suspicious/noAssignInExpressions: a sticky-regex scan
  while ((m = re.exec(rest))) {
    consumed = re.lastIndex;
    const attrs = m[2]!;
    const last = /last="([^"]*)"/.exec(attrs);
    const first = /first="([^"]*)"/.exec(attrs);
    const strip = (v: string) => xmlUnescape(v).replace(/^\{(.*)\}$/, '$1');
    keys.push({ name: m[1]!, last: last ? strip(last[1]!) : null, first: first ? strip(first[1]!) : null });
  }
  rest = rest.slice(consumed);
  if (rest.trim() !== '' || keys.length === 0) return null;
  return { pageNumber: Number(outer[1]), keys };
}
