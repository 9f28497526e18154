import { DynamicsMcpError } from '../../errors.js';

/**
 * The serialised result, refused whole when it is over the policy's cap (never cut silently), with advice
 * that fits how many records it holds (a smaller "top" cannot shrink one record) and names what makes it large:
 * a long text column, or a related list expanded with its rows.
 */
export function fitResult(structured: unknown, records: number, maxBytes: number): string {
  const json = JSON.stringify(structured);
  const bytes = Buffer.byteLength(json);
  if (bytes <= maxBytes) return json;
  const fits = Math.max(1, Math.floor((records * maxBytes) / bytes));
  const heavy = heaviest(structured, bytes);
  const kb = (n: number) => `${Math.max(1, Math.round(n / 1024))} KB`;
  const most = heavy.length ? ` Most of it is ${heavy.map((h) => `${h.key} (${kb(h.bytes)})`).join(' and ')}.` : '';
  // what to do about each: a column is left out; a related list expanded is given fewer columns and rows
  const columns = heavy.filter((h) => !h.list).map((h) => h.key);
  const lists = heavy.filter((h) => h.list).map((h) => `"${h.key}"`);
  const remedy = [
    ...(columns.length ? [`leave ${columns.join(' and ')} out of "select"`] : []),
    ...(lists.length ? [`give the expand item ${lists.join(' and ')} a "select" of short columns and a "top"`] : []),
  ].join(', or ');
  const capital = (t: string) => `${t.charAt(0).toUpperCase()}${t.slice(1)}`;
  throw new DynamicsMcpError(
    'too_large',
    `The result would be ${kb(bytes)}, over this server's ${kb(maxBytes)} limit.${most}`,
    records === 1
      ? `One record is this large: ${remedy || 'select fewer columns (long text such as description) or expand fewer relationships'}.`
      : `${remedy ? `${capital(remedy)}, narrow` : 'Ask for fewer columns with "select", narrow'} the conditions, or lower "top" to about ${fits}.`,
    { retryable: false },
  );
}

/**
 * The columns (or expanded lists) of the records that hold a quarter or more of the result's bytes, summed over
 * its records (query_entities' records, get_record's record), largest first, at most two.
 */
function heaviest(structured: unknown, total: number): { key: string; bytes: number; list: boolean }[] {
  const s = structured as { records?: unknown; record?: unknown } | null;
  const rows = Array.isArray(s?.records) ? s.records : s?.record && typeof s.record === 'object' ? [s.record] : [];
  const sizes = new Map<string, { bytes: number; list: boolean }>();
  for (const row of rows) {
    if (!row || typeof row !== 'object') continue;
    for (const [key, value] of Object.entries(row as Record<string, unknown>)) {
      const was = sizes.get(key) ?? { bytes: 0, list: false };
      sizes.set(key, {
        bytes: was.bytes + Buffer.byteLength(JSON.stringify(value) ?? ''),
        list: was.list || Array.isArray(value),
      });
    }
  }
  return [...sizes]
    .map(([key, v]) => ({ key, ...v }))
    .filter((h) => h.bytes * 4 >= total)
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 2);
}
