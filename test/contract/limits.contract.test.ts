import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch } from '../../src/dynamics/batch.js';
import { type ContractTarget, openEmulatorTarget } from './target.js';

// LIMITS, COMPOSE (403) and AGG limits need the emulator's knobs; the rules they check are Microsoft's.
describe('limits and privileges contract: emulator', () => {
  let t: ContractTarget;
  beforeAll(async () => {
    t = await openEmulatorTarget({ scale: 20, limits: { requestsPerWindow: 5, windowMs: 2000 } });
  });
  afterAll(async () => t.close());

  it('LIMITS: every answer carries x-ms-ratelimit-* headers; over the request limit comes a 429 with Retry-After and the documented code', async () => {
    await t.emulator!.reset();
    const token = await t.token();
    const statuses: number[] = [];
    let last: Awaited<ReturnType<ContractTarget['api']>> | undefined;
    for (let i = 0; i < 6; i++) {
      last = await t.api('GET', 'WhoAmI()', { token });
      statuses.push(last.status);
      if (i === 0) expect(last.headers['x-ms-ratelimit-burst-remaining-xrm-requests']).toBe('4');
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect(Number(last!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(last!.json().error).toEqual({
      code: '0x80072322',
      message: 'Number of requests exceeded the limit of 5 over time window of 2 seconds.',
    });
    expect(t.emulator!.stats().throttled).toBe(1);
  });

  it('LIMITS: concurrent requests over the limit fail at once with 0x80072326', async () => {
    await t.emulator!.reset();
    t.emulator!.configure({ limits: { requestsPerWindow: 1000, maxConcurrent: 2 }, latencyMs: 150 });
    try {
      const token = await t.token();
      const results = await Promise.all(Array.from({ length: 4 }, () => t.api('GET', 'WhoAmI()', { token })));
      const codes = results.filter((r) => r.status === 429).map((r) => r.json().error.code);
      expect(codes.length).toBeGreaterThanOrEqual(1);
      expect(new Set(codes)).toEqual(new Set(['0x80072326']));
    } finally {
      t.emulator!.configure({ limits: { requestsPerWindow: 5, maxConcurrent: 52 }, latencyMs: 0 });
    }
  });

  it('COMPOSE: a missing privilege is a 403 PrivilegeDenied naming prv<Privilege><Entity> and the table', async () => {
    await t.emulator!.reset();
    t.emulator!.configure({
      limits: { requestsPerWindow: 1000 },
      role: { privileges: { account: { read: true }, contact: { read: false } } },
    });
    const r = await t.api('GET', 'contacts?$top=1');
    expect(r.status).toBe(403);
    expect(r.json().error.code).toBe('0x80040220');
    expect(r.json().error.message).toContain('is missing prvReadContact privilege');
    expect(r.json().error.message).toContain("for entity 'contact'");
    const create = await t.api('POST', 'accounts', { body: { name: 'no create' } });
    expect(create.status).toBe(403);
    expect(create.json().error.message).toContain('prvCreateAccount');
    expect((await t.api('GET', 'accounts?$top=1')).status).toBe(200);
  });

  it('COMPOSE: a query expanding a table the role cannot read is refused whole, naming that privilege', async () => {
    await t.emulator!.reset();
    t.emulator!.configure({
      limits: { requestsPerWindow: 1000 },
      role: { privileges: { account: { read: true }, contact: { read: false } } },
    });
    const refused = async (path: string) => {
      const r = await t.api('GET', path);
      expect(r.status, path).toBe(403);
      expect(r.json().error.message).toContain('is missing prvReadContact privilege');
      expect(r.json().error.message).toContain("for entity 'contact'");
    };
    await refused('accounts?$select=name&$expand=primarycontactid($select=fullname)&$top=1');
    await refused('accounts?$select=name&$expand=contact_customer_accounts($select=fullname)&$top=1');
    // refused before it runs: a query that finds nothing is refused the same
    await refused(`accounts?$select=name&$filter=name eq 'no such name'&$expand=primarycontactid($select=fullname)`);
    const one = t.emulator!.rows('account')[0]!.accountid as string;
    await refused(`accounts(${one})?$select=name&$expand=primarycontactid($select=fullname)`);
    // the lookup's own value is the account's: read without the contact's privilege
    const plain = await t.api('GET', 'accounts?$select=name,_primarycontactid_value&$top=1');
    expect(plain.status).toBe(200);
  });

  // Compose HTTP requests, "Maximum URL length": 32,768 characters, 65,536 inside a $batch. Microsoft names
  // the limit, not the answer past it: 414 is what HTTP.sys in front of the service sends.
  it('COMPOSE: a GET URL of 32,768 characters is served, one character more is a 414; inside $batch up to 65,536', async () => {
    await t.emulator!.reset();
    t.emulator!.configure({ limits: { requestsPerWindow: 1000 } });
    // quotes sent as %27: a URL parser would encode them on the way and make the URL longer than counted
    const base = `${t.dynamicsUrl}/api/data/v9.2/accounts?$select=name&$filter=name%20ne%20%27`;
    const ofLength = (n: number) => `${base}${'x'.repeat(n - base.length - 3)}%27`;
    const at = await t.api('GET', ofLength(32_768));
    expect(at.status).toBe(200);
    expect(at.json().value.length).toBeGreaterThan(0);
    const over = await t.api('GET', ofLength(32_769));
    expect(over.status).toBe(414);
    expect(over.text).toContain('HTTP Error 414. The request URL is too long.');
    const batch = (url: string) => {
      const b = encodeBatch([{ method: 'GET', url: url.slice(`${t.dynamicsUrl}/`.length) }], t.dynamicsUrl, false);
      return t.api('POST', '$batch', { headers: { 'content-type': b.contentType }, body: b.body });
    };
    const parts = async (url: string) => {
      const r = await batch(url);
      return decodeBatch(r.headers['content-type']!, r.text);
    };
    expect((await parts(ofLength(65_536)))[0]!.status).toBe(200);
    expect((await parts(ofLength(65_537)))[0]!.status).toBe(414);
    // measured as the part's request line writes it: quotes left as they are (the server's own filters do)
    // are one character each, not the %27 a URL parser would make of them
    const head = `${t.dynamicsUrl}/api/data/v9.2/accounts?$select=name&$filter=name%20ne%20'`;
    const quoted = (n: number) => `${head}${'x'.repeat(n - head.length - 1)}'`;
    const q = quoted(65_536);
    expect(q).toHaveLength(65_536);
    expect((await parts(q))[0]!.status).toBe(200);
    expect((await parts(quoted(65_537)))[0]!.status).toBe(414);
  });

  it('AGG: aggregates over more rows than the limit fail with AggregateQueryRecordLimitExceeded', async () => {
    await t.emulator!.reset();
    t.emulator!.configure({ limits: { requestsPerWindow: 1000 }, aggregateLimit: 5 });
    const r = await t.api('GET', `accounts?$apply=${encodeURIComponent('aggregate($count as n)')}`);
    expect(r.status).toBe(400);
    expect(r.json().error).toEqual({
      code: '0x8004E023',
      message: 'The maximum record limit is exceeded. Reduce the number of records.',
    });
    const filtered = await t.api(
      'GET',
      `accounts?$apply=${encodeURIComponent(`filter(accountnumber eq 'ACC-10000')/aggregate($count as n)`)}`,
    );
    expect(filtered.json().value).toEqual([{ n: 1 }]);
  });
});
