import { describe, expect, it } from 'vitest';
import { trailingNextLink } from '../../src/dynamics/query-text.js';

// PAGE: "@odata.nextLink" is the last property of a page; the client reads it from the tail to ask for
// the next page before parsing this one, and checks it against the parsed page afterwards
describe('trailingNextLink', () => {
  const page = (extra: Record<string, unknown>) =>
    JSON.stringify({ '@odata.context': 'ctx', value: [{ name: 'a "quoted", name' }], ...extra });

  it('reads the link at the end of a page, unescaped as JSON.parse would', () => {
    const link =
      'https://org.crm.dynamics.com/api/data/v9.2/accounts?$select=name&$skiptoken=%3Ccookie%20pagenumber=%222%22%20/%3E';
    const text = page({ '@odata.nextLink': link });
    expect(trailingNextLink(text)).toBe(link);
    expect(trailingNextLink(`${text}\n`)).toBe(link);
    expect(trailingNextLink(page({ '@odata.nextLink': 'a\\"b' }))).toBe('a\\"b');
  });

  it('finds nothing on a last page, or where the link is not the last top-level property', () => {
    expect(trailingNextLink(page({}))).toBeUndefined();
    expect(trailingNextLink(page({ '@odata.nextLink': 'x', '@odata.count': 3 }))).toBeUndefined();
    // a record whose text imitates a link, and an expanded collection's own nextLink
    expect(trailingNextLink(page({ note: ',"@odata.nextLink":"https://evil"}' }))).toBeUndefined();
    expect(
      trailingNextLink(JSON.stringify({ value: [{ contacts: { '@odata.nextLink': 'https://nested' } }] })),
    ).toBeUndefined();
  });
});
