import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DynamicsClient } from '../../src/dynamics/client.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { apiRequests, clientFor } from '../helpers/client.js';
import { startTestEmulator, throttledResponse } from '../helpers/emulator.js';

describe('client: throttling, retries and writes that never duplicate', () => {
  let emu: EmulatorHandle;
  let client: DynamicsClient;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 10 });
    ({ client } = clientFor(emu));
    await client.metadata.entity('lead');
  });
  afterAll(async () => {
    await client.close();
    await emu.close();
  });
  afterEach(() => emu.clearFaults());

  const leads = (lastname: string) => emu.rows('lead').filter((l) => l.lastname === lastname);

  it('a 429 with Retry-After is waited out, then the call succeeds', async () => {
    emu.addFault({
      match: { method: 'GET', path: '/api/data/v9.2/leads' },
      response: throttledResponse(1),
    });
    const start = Date.now();
    const page = await client.query({ entity: 'lead', select: ['fullname'], top: 3 });
    expect(page.rows).toHaveLength(3);
    expect(Date.now() - start).toBeGreaterThanOrEqual(950);
  });

  // LIMITS: Retry-After is whole seconds, so every 429 of one burst is an upper bound of the same moment
  const retriedAt = (since: number) =>
    emu
      .requests()
      .filter((r) => r.url.startsWith('/api/data/v9.2/leads?') && r.status === 200 && r.at! >= since)
      .map((r) => r.at! - since);

  it('429s of one limit in one burst: every throttled request resumes at the earliest time the service gave', async () => {
    emu.addFault({ match: { method: 'GET', path: '/api/data/v9.2/leads' }, response: throttledResponse(1) });
    emu.addFault({ match: { method: 'GET', path: '/api/data/v9.2/leads' }, response: throttledResponse(3) });
    const start = Date.now();
    const pages = await Promise.all([
      client.query({ entity: 'lead', select: ['fullname'], top: 1 }),
      client.query({ entity: 'lead', select: ['fullname'], top: 2 }),
    ]);
    expect(pages.map((p) => p.rows.length)).toEqual([1, 2]);
    const at = retriedAt(start);
    expect(at).toHaveLength(2);
    // both went again after the 1 s the first 429 asked for, neither waited the second one's 3 s
    for (const ms of at) expect(ms).toBeGreaterThanOrEqual(950);
    for (const ms of at) expect(ms).toBeLessThan(2500);
  });

  it('a 429 of a different limit in the same burst is waited out too', async () => {
    emu.addFault({ match: { method: 'GET', path: '/api/data/v9.2/leads' }, response: throttledResponse(1) });
    const executionTime = throttledResponse(2);
    (executionTime.body as { error: { code: string } }).error.code = '0x80072321';
    emu.addFault({ match: { method: 'GET', path: '/api/data/v9.2/leads' }, response: executionTime });
    const start = Date.now();
    await Promise.all([
      client.query({ entity: 'lead', select: ['fullname'], top: 1 }),
      client.query({ entity: 'lead', select: ['fullname'], top: 2 }),
    ]);
    const at = retriedAt(start);
    expect(at).toHaveLength(2);
    for (const ms of at) expect(ms).toBeGreaterThanOrEqual(1950);
  });

  it('a create whose response is lost after commit (reset-after) leaves exactly one record', async () => {
    emu.addFault({ match: { method: 'PATCH', path: '/api/data/v9.2/leads(' }, action: 'reset-after' });
    const r = await client.create('lead', { lastname: 'LostResponse', subject: 'Web form' });
    expect(r.created).toBe(false);
    expect(leads('LostResponse')).toHaveLength(1);
    expect(leads('LostResponse')[0]!.leadid).toBe(r.id);
  });

  it('a create whose connection drops before processing is retried and creates once', async () => {
    emu.addFault({ match: { method: 'PATCH', path: '/api/data/v9.2/leads(' }, action: 'reset' });
    const r = await client.create('lead', { lastname: 'ResetBefore' });
    expect(r.created).toBe(true);
    expect(leads('ResetBefore')).toHaveLength(1);
  });

  it('a 503 on a PATCH with an ETag is retried safely: one update, no conflict', async () => {
    const { id } = await client.create('lead', { lastname: 'Etag', subject: 'v1' });
    const { row } = await client.get('lead', id, { select: ['subject'] });
    emu.addFault({ match: { method: 'PATCH', path: `/api/data/v9.2/leads(${id})` }, response: { status: 503 } });
    const updated = await client.update('lead', id, { subject: 'v2' }, { etag: String(row['@odata.etag']) });
    expect(updated.row.subject).toBe('v2');
    expect(leads('Etag')[0]!.subject).toBe('v2');
  });

  it('an update whose response was lost after commit, with an ETag, is recognised as done', async () => {
    const { id } = await client.create('lead', { lastname: 'EtagLost', subject: 'v1' });
    const { row } = await client.get('lead', id, { select: ['subject'] });
    emu.addFault({ match: { method: 'PATCH', path: `/api/data/v9.2/leads(${id})` }, action: 'reset-after' });
    const updated = await client.update('lead', id, { subject: 'v2' }, { etag: String(row['@odata.etag']) });
    expect(updated.row.subject).toBe('v2');
  });

  it('an update never creates a record, and a stale etag is a concurrency conflict', async () => {
    const missing = '00000000-0000-0000-0000-0000000000aa';
    await expect(client.update('lead', missing, { subject: 'x' })).rejects.toMatchObject({ kind: 'not_found' });
    expect(emu.rows('lead').some((l) => l.leadid === missing)).toBe(false);
    const { id } = await client.create('lead', { lastname: 'Stale' });
    const { row } = await client.get('lead', id);
    await client.update('lead', id, { subject: 'first' });
    await expect(
      client.update('lead', id, { subject: 'second' }, { etag: String(row['@odata.etag']) }),
    ).rejects.toMatchObject({
      kind: 'concurrency',
      hint: expect.stringContaining('get_record'),
    });
  });

  it("an update's read of the columns before it: a record gone is not found, and nothing is sent; one the role may not read is still updated, without them", async () => {
    const missing = '00000000-0000-0000-0000-0000000000ab';
    const since = emu.requests().length;
    await expect(client.update('lead', missing, { subject: 'x' }, { readBefore: true })).rejects.toMatchObject({
      kind: 'not_found',
    });
    expect(
      apiRequests(emu, since)
        .filter((r) => r.url.includes(missing))
        .map((r) => r.method),
    ).toEqual(['GET']);
    const { id } = await client.create('lead', { lastname: 'BeforeRead', subject: 'v1' });
    const read = await client.update('lead', id, { subject: 'v2' }, { readBefore: true });
    expect(read.before).toMatchObject({ subject: 'v1' });
    expect(read.row).toMatchObject({ subject: 'v2' });
    // Dataverse answers 403 to a read the role lacks (prvReadLead); the write itself is a different privilege
    emu.addFault({
      match: { method: 'GET', path: `/api/data/v9.2/leads(${id})` },
      response: {
        status: 403,
        body: { error: { code: '0x80040220', message: 'Principal user is missing prvReadLead privilege' } },
      },
    });
    const blind = await client.update('lead', id, { subject: 'v3' }, { readBefore: true });
    expect(blind.before).toBeUndefined();
    expect(emu.rows('lead').find((l) => l.leadid === id)!.subject).toBe('v3');
  });

  it('createMany sends $batch requests; a batch whose answer is lost is retried without duplicates', async () => {
    emu.addFault({ match: { method: 'POST', path: '/api/data/v9.2/$batch' }, action: 'reset-after' });
    const records = Array.from({ length: 250 }, (_, i) => ({
      lastname: 'Bulk',
      subject: `lead ${i}`,
      emailaddress1: `bulk${i}@example.com`,
    }));
    const results = await client.createMany('lead', records, { chunk: 100 });
    expect(results.filter((r) => r.error)).toEqual([]);
    expect(leads('Bulk')).toHaveLength(250);
    expect(new Set(leads('Bulk').map((l) => l.subject)).size).toBe(250);
  });

  it('created records get rising ids: in key order they follow the records already there, in the order made', async () => {
    // Microsoft advises sequential ids over random ones (Dataverse clusters each table on its key)
    const made = await client.createMany(
      'lead',
      Array.from({ length: 40 }, (_, i) => ({ lastname: 'Rising', subject: `r${i}` })),
    );
    const one = await client.create('lead', { lastname: 'Rising', subject: 'r40' });
    const ids = [...made.map((r) => r.id), one.id];
    const inKeyOrder: string[] = [];
    for await (const rows of client.pages({ entity: 'lead', select: ['subject'] }))
      inKeyOrder.push(...rows.map((r) => String(r.leadid)));
    expect(inKeyOrder.slice(-ids.length)).toEqual(ids);
  });

  it('createMany reports per-record errors and keeps the good ones', async () => {
    const known = emu.rows('lead').find((l) => l.statecode === 0 && l.emailaddress1)!.emailaddress1;
    const results = await client.createMany('lead', [
      { lastname: 'Mixed' },
      { lastname: 'Mixed', subject: 'x'.repeat(301) },
      { lastname: 'Mixed', leadqualitycode: 'Lukewarm' },
      // the organisation's duplicate detection rules apply to each record of a batch (same email: a default rule)
      { lastname: 'Mixed', emailaddress1: known },
    ]);
    expect(results[0]!.error).toBeUndefined();
    expect(results[1]!.error).toMatchObject({ kind: 'bad_input', message: expect.stringContaining('at most 300') });
    expect(results[2]!.error).toMatchObject({ kind: 'bad_input', hint: expect.stringContaining('2 (Warm)') });
    expect(results[3]!.error).toMatchObject({ kind: 'duplicate', details: { code: '0x80040333' } });
    expect(leads('Mixed').map((l) => l.leadid)).toEqual([results[0]!.id]);
  });

  it('maps failures to typed errors with recovery hints', async () => {
    await expect(client.get('lead', '00000000-0000-0000-0000-0000000000bb')).rejects.toMatchObject({
      kind: 'not_found',
      hint: expect.stringContaining('query_entities'),
    });
    emu.configure({ role: { privileges: { lead: { read: true } } } });
    try {
      await expect(client.create('lead', { lastname: 'NoPriv' })).rejects.toMatchObject({
        kind: 'permission',
        message: expect.stringContaining('prvCreateLead'),
      });
    } finally {
      await emu.reset();
    }
    // setting a lookup needs Append on the record and AppendTo on the one it points at (Dataverse security
    // concepts): a role that may create cases but not attach them to accounts is refused, and nothing is created
    const account = emu.rows('account')[0]!;
    emu.configure({
      role: {
        privileges: {
          incident: { read: true, create: true, write: true, append: true },
          account: { read: true, append: true },
        },
      },
    });
    const cases = emu.rows('incident').length;
    try {
      await expect(
        client.create('incident', {
          title: 'No AppendTo',
          customerid: { entity: 'account', id: String(account.accountid) },
        }),
      ).rejects.toMatchObject({ kind: 'permission', message: expect.stringContaining('prvAppendToAccount') });
      expect(emu.rows('incident')).toHaveLength(cases);
    } finally {
      await emu.reset();
    }
    emu.addFault({
      match: { path: '/api/data/v9.2/leads' },
      response: {
        status: 429,
        headers: { 'Retry-After': '900' },
        body: { error: { code: '0x80072322', message: 'Number of requests exceeded the limit.' } },
      },
    });
    await expect(client.query({ entity: 'lead', top: 1 })).rejects.toMatchObject({
      kind: 'throttled',
      details: { retryAfterMs: 900_000 },
    });
    emu.clearFaults();
    await expect(client.create('lead', { lastname: 'x', subject: 'y'.repeat(301) })).rejects.toMatchObject({
      kind: 'bad_input',
      message: expect.stringContaining('at most 300'),
    });
  });

  it("a call cancelled while a table's metadata is read ends its own wait, not the read the others share", async () => {
    const fresh = clientFor(emu).client;
    try {
      // the table is read once for everyone (a $batch of its definitions), slowly here
      emu.addFault({ match: { method: 'POST', path: '/api/data/v9.2/$batch' }, delayMs: 400 });
      const cancelled = new AbortController();
      const mark = emu.requests().length;
      const first = fresh.metadata.entity('contact', cancelled.signal);
      const second = fresh.metadata.entity('contact');
      cancelled.abort();
      await expect(first).rejects.toMatchObject({ kind: 'cancelled', message: 'The request was cancelled.' });
      // before: the read was the cancelled call's, and failed for this one too
      await expect(second).resolves.toMatchObject({ logicalName: 'contact' });
      // and is kept: the next call needs no request
      const read = apiRequests(emu, mark).length;
      await fresh.metadata.entity('contact');
      expect(apiRequests(emu, mark)).toHaveLength(read);
    } finally {
      await fresh.close();
    }
  });

  it('a request past the timeout fails as a timeout, and is retried only if safe', async () => {
    const slow = clientFor(emu, { overrides: { dynamics: { timeoutMs: 1000, deadlineMs: 2500 } } as never }).client;
    await slow.metadata.entity('lead');
    // 1 s of timeout gives up between 1.0 and 1.5 s (undici's coarse timer), later under load: a delay of
    // 1.5 s once raced it and answered first; 2.5 s is past it whatever the tick
    emu.addFault({ match: { method: 'GET', path: '/api/data/v9.2/leads' }, delayMs: 2500 });
    const mark = emu.requests().length;
    const page = await slow.query({ entity: 'lead', top: 1 });
    expect(page.rows).toHaveLength(1);
    expect(apiRequests(emu, mark).length).toBeGreaterThanOrEqual(2);
    emu.addFault({ match: { method: 'GET', path: '/api/data/v9.2/leads' }, delayMs: 2500, times: 5 });
    await expect(slow.query({ entity: 'lead', top: 1 })).rejects.toMatchObject({
      kind: expect.stringMatching(/timeout|network/),
    });
    await slow.close();
  });

  it('cancellation from the caller reaches the request', async () => {
    emu.addFault({ match: { method: 'GET', path: '/api/data/v9.2/leads' }, delayMs: 2000 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('user cancelled')), 100);
    const start = Date.now();
    await expect(client.query({ entity: 'lead', top: 1 }, { signal: ac.signal })).rejects.toMatchObject({
      kind: 'cancelled',
    });
    expect(Date.now() - start).toBeLessThan(1500);
  });
});
