import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { testTls } from '../helpers/emulator.js';
import { type ContractTarget, openEmulatorTarget } from './target.js';

// The control API (/_emulator/) is the emulator's own: the faults it injects are the failures a real org shows.
describe('emulator control API', () => {
  let t: ContractTarget;
  const control = async (method: string, path: string, body?: unknown) => {
    const r = await request(`${t.dynamicsUrl}/_emulator/${path}`, {
      method: method as 'GET',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.body.text();
    return { status: r.statusCode, json: () => JSON.parse(text) };
  };
  beforeAll(async () => {
    t = await openEmulatorTarget({ scale: 10 });
  });
  afterAll(async () => t.close());

  it('GET /_emulator/stats and /_emulator/requests count tokens and Web API requests, with method, url and status', async () => {
    await control('POST', 'reset');
    await t.api('GET', 'accounts?$top=1');
    await t.api('GET', 'nosuchset');
    const stats = (await control('GET', 'stats')).json();
    expect(stats.apiRequests).toBe(2);
    expect(stats.tokenRequests).toBeGreaterThanOrEqual(0);
    const log = (await control('GET', 'requests'))
      .json()
      .requests.filter((r: { service: string }) => r.service === 'webapi');
    expect(log.map((r: { method: string; url: string; status: number }) => [r.method, r.url, r.status])).toEqual([
      ['GET', '/api/data/v9.2/accounts?$top=1', 200],
      ['GET', '/api/data/v9.2/nosuchset', 404],
    ]);
  });

  it('POST /_emulator/faults: a canned response for the next N matching requests (method + path prefix)', async () => {
    await control('POST', 'reset');
    const add = await control('POST', 'faults', {
      match: { method: 'GET', path: '/api/data/v9.2/accounts' },
      response: { status: 503, headers: { 'Retry-After': '2' }, body: { error: { code: '0x0', message: 'down' } } },
      times: 2,
    });
    expect(add.status).toBe(204);
    const a = await t.api('GET', 'accounts?$top=1');
    const b = await t.api('GET', 'accounts?$top=1');
    const c = await t.api('GET', 'accounts?$top=1');
    expect([a.status, b.status, c.status]).toEqual([503, 503, 200]);
    expect(a.headers['retry-after']).toBe('2');
    expect((await t.api('GET', 'contacts?$top=1')).status).toBe(200);
  });

  it('reset drops the connection before processing; reset-after commits and then drops it', async () => {
    await control('POST', 'reset');
    await control('POST', 'faults', { match: { method: 'POST', path: '/api/data/v9.2/leads' }, action: 'reset' });
    await expect(t.api('POST', 'leads', { body: { lastname: 'never' } })).rejects.toThrow();
    expect(t.emulator!.rows('lead').filter((r) => r.lastname === 'never')).toHaveLength(0);
    await control('POST', 'faults', { match: { method: 'POST', path: '/api/data/v9.2/leads' }, action: 'reset-after' });
    await expect(t.api('POST', 'leads', { body: { lastname: 'committed' } })).rejects.toThrow();
    expect(t.emulator!.rows('lead').filter((r) => r.lastname === 'committed')).toHaveLength(1);
  });

  it('delayMs delays a request; DELETE /_emulator/faults clears pending faults; bad fault specs are refused', async () => {
    await control('POST', 'faults', { match: { path: '/api/data/v9.2/WhoAmI' }, delayMs: 200 });
    const start = performance.now();
    expect((await t.api('GET', 'WhoAmI()')).status).toBe(200);
    expect(performance.now() - start).toBeGreaterThanOrEqual(190);
    await control('POST', 'faults', { match: { path: '/' }, response: { status: 500 } });
    expect((await control('DELETE', 'faults')).status).toBe(204);
    expect((await t.api('GET', 'WhoAmI()')).status).toBe(200);
    const bad = await control('POST', 'faults', { match: { path: '/' } });
    expect(bad.status).toBe(400);
    expect(bad.json().error.message).toContain('needs "response"');
  });

  it('faults apply to the token endpoint too', async () => {
    await control('POST', 'faults', {
      match: { method: 'POST', path: `/${t.emulator!.tenantId}/oauth2/v2.0/token` },
      response: { status: 503 },
    });
    const r = await request(`${t.emulator!.authorityHost}/${t.emulator!.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      body: 'grant_type=client_credentials',
    });
    expect(r.statusCode).toBe(503);
    await r.body.dump();
  });

  it('POST /_emulator/reset restores the seed data, ids included', async () => {
    const ids = () => t.emulator!.rows('account').map((a) => a.accountid);
    const before = ids();
    await t.api('POST', 'accounts', { body: { name: 'temporary' } });
    expect(t.emulator!.rows('account')).toHaveLength(before.length + 1);
    await control('POST', 'reset');
    expect(ids()).toEqual(before);
  });
});

describe('seed data', () => {
  it('anchored to today, nothing was made or changed after the moment it started (at any hour of the day)', async () => {
    const started = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const emu = await startEmulator({ tls: testTls(), scale: 200 });
    try {
      const tables = [
        ...['account', 'contact', 'lead', 'opportunity', 'incident', 'annotation'],
        ...['task', 'phonecall', 'email', 'appointment', 'incidentresolution', 'opportunityclose', 'activitypointer'],
      ];
      const later = tables.flatMap((t) =>
        emu
          .rows(t)
          .filter((r) => String(r.createdon) > started || String(r.modifiedon) > started)
          .map((r) => `${t} ${r.createdon} ${r.modifiedon}`),
      );
      expect(later).toEqual([]);
    } finally {
      await emu.close();
    }
  });

  it('is deterministic for a seed and scales with --scale (related records in proportion)', async () => {
    const tls = testTls();
    const a = await startEmulator({ tls, seed: 7, scale: 40, anchorDate: new Date('2026-11-15') });
    const b = await startEmulator({ tls, seed: 7, scale: 40, anchorDate: new Date('2026-11-15') });
    const c = await startEmulator({ tls, seed: 8, scale: 80, anchorDate: new Date('2026-11-15') });
    try {
      const strip = (rows: Record<string, unknown>[]) => rows.map(({ versionnumber: _v, ...r }) => r);
      expect(strip(a.rows('account'))).toEqual(strip(b.rows('account')));
      expect(strip(a.rows('opportunity'))).toEqual(strip(b.rows('opportunity')));
      expect(c.rows('account')).toHaveLength(80);
      expect(c.rows('contact')).toHaveLength(160);
      expect(c.rows('opportunity')).toHaveLength(80);
      expect(c.rows('incident')).toHaveLength(40);
      expect(c.rows('lead')).toHaveLength(40);
      // every stage, open and closed, past and coming close dates
      const opps = c.rows('opportunity');
      expect(new Set(opps.map((o) => o.salesstage))).toEqual(new Set([0, 1, 2, 3]));
      expect(new Set(opps.map((o) => o.statecode))).toEqual(new Set([0, 1, 2]));
      expect(
        opps.some((o) => String(o.estimatedclosedate) < '2026-11-15') &&
          opps.some((o) => String(o.estimatedclosedate) > '2026-11-15'),
      ).toBe(true);
      // edited after creation, never after the day the data is anchored to (no record modified in the future)
      for (const table of ['account', 'contact', 'lead', 'opportunity', 'incident'])
        for (const r of c.rows(table)) {
          expect(String(r.modifiedon) >= String(r.createdon), `${table} modified before it was created`).toBe(true);
          expect(String(r.modifiedon) < '2026-11-16', `${table} modified after the anchor day`).toBe(true);
        }
      // lookups resolve
      const contacts = new Set(c.rows('contact').map((r) => r.contactid));
      for (const acc of c.rows('account')) expect(contacts.has((acc.primarycontactid as { id: string }).id)).toBe(true);
      // one note on each open case, written after the case was opened and not after the anchor day
      const open = new Map(
        c
          .rows('incident')
          .filter((i) => i.statecode === 0)
          .map((i) => [i.incidentid, i]),
      );
      const notes = c.rows('annotation');
      expect(notes.map((n) => (n.objectid as { id: string }).id).sort()).toEqual([...open.keys()].sort());
      for (const n of notes) {
        expect(n.objectid).toMatchObject({ entity: 'incident' });
        expect(String(n.createdon) >= String(open.get((n.objectid as { id: string }).id)!.createdon)).toBe(true);
        expect(String(n.createdon) < '2026-11-16').toBe(true);
      }
      // what closing writes: each won or lost deal has its Opportunity Close (its revenue and day; a lost one
      // says why), each resolved case its Case Resolution; nothing open or cancelled has one
      const closes = c.rows('opportunityclose');
      const closed = opps.filter((o) => o.statecode !== 0);
      expect(closes.map((x) => (x.opportunityid as { id: string }).id).sort()).toEqual(
        closed.map((o) => o.opportunityid).sort(),
      );
      for (const x of closes) {
        const deal = closed.find((o) => o.opportunityid === (x.opportunityid as { id: string }).id)!;
        const won = deal.statecode === 1;
        expect(x).toMatchObject({
          subject: `${won ? 'Won' : 'Lost'}: ${deal.name}`,
          actualend: deal.actualclosedate,
          actualrevenue: won ? deal.actualvalue : null,
        });
        expect(typeof x.description === 'string').toBe(!won);
      }
      const resolved = c.rows('incident').filter((i) => i.statecode === 1);
      const resolutions = c.rows('incidentresolution');
      expect(resolutions.map((r) => (r.incidentid as { id: string }).id).sort()).toEqual(
        resolved.map((i) => i.incidentid).sort(),
      );
      expect(resolutions.every((r) => typeof r.subject === 'string' && r.subject !== 'Resolved.')).toBe(true);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });
});
