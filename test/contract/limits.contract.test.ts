import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
