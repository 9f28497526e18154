import { ConfidentialClientApplication } from '@azure/msal-node';
import { DynamicsWebApi } from 'dynamics-web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { startTestEmulator } from '../helpers/emulator.js';

// A third-party client (the benchmark peer) talks to the emulator unchanged: its nextLink handling needs the
// link built from the request's own scheme and Host (odata-parsers.md §9), and its $batch writes absolute part URLs.
describe('dynamics-web-api against the emulator', () => {
  let emu: EmulatorHandle;
  let api: DynamicsWebApi;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 25 });
    const cca = new ConfidentialClientApplication({
      auth: {
        clientId: emu.clientId,
        clientSecret: emu.clientSecret,
        authority: `${emu.authorityHost}/${emu.tenantId}`,
        knownAuthorities: [new URL(emu.authorityHost).host],
      },
    });
    api = new DynamicsWebApi({
      serverUrl: emu.dynamicsUrl,
      onTokenRefresh: async () =>
        (await cca.acquireTokenByClientCredential({ scopes: [`${emu.dynamicsUrl}/.default`] }))!.accessToken,
    });
  });
  afterAll(async () => emu.close());

  it('retrieveAll follows every @odata.nextLink and gets each contact once', async () => {
    const all = await api.retrieveAll<{ contactid: string }>({
      collection: 'contacts',
      select: ['fullname'],
      maxPageSize: 7,
      orderBy: ['fullname'],
    });
    const ids = all.value.map((c) => c.contactid);
    expect(ids).toHaveLength(50);
    expect(new Set(ids).size).toBe(50);
    const pages = emu.requests().filter((r) => r.service === 'webapi' && r.url.startsWith('/api/data/v9.2/contacts'));
    expect(pages).toHaveLength(Math.ceil(50 / 7));
  });

  it('executeBatch runs creates in a change set and a retrieve outside it', async () => {
    api.startBatch();
    api.create({ collection: 'leads', data: { lastname: 'Batch One', emailaddress1: 'one@batch.example' } });
    api.create({ collection: 'leads', data: { lastname: 'Batch Two', emailaddress1: 'two@batch.example' } });
    api.retrieveMultiple({ collection: 'accounts', select: ['name'], top: 2 });
    const results = await api.executeBatch();
    expect(results).toHaveLength(3);
    expect(results[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(results[1]).toMatch(/^[0-9a-f-]{36}$/);
    expect(results[2].value).toHaveLength(2);
    const leads = emu.rows('lead').filter((l) => String(l.lastname).startsWith('Batch '));
    expect(leads.map((l) => l.leadid).sort()).toEqual([results[0], results[1]].sort());
  });
});
