import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { apiRequests, clientFor } from '../helpers/client.js';
import { startTestEmulator } from '../helpers/emulator.js';

describe('client auth: MSAL through the emulator authority', () => {
  let emu: EmulatorHandle;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 10 });
  });
  afterAll(async () => emu.close());
  afterEach(async () => emu.reset());

  it('100 concurrent cold calls make exactly one token request (single-flight)', async () => {
    const { client } = clientFor(emu);
    await client.metadata.entities(); // warm metadata so the 100 calls are pure token + API traffic
    await emu.reset();
    const fresh = clientFor(emu).client;
    const results = await Promise.all(Array.from({ length: 100 }, () => fresh.whoAmI()));
    expect(new Set(results.map((r) => r.UserId))).toEqual(new Set([emu.applicationUserId]));
    expect(emu.stats().tokenRequests).toBe(1);
    expect(emu.stats().apiRequests).toBe(100);
    await Promise.all([client.close(), fresh.close()]);
  });

  it('a 401 mid-flight drops the token, fetches a new one and retries once', async () => {
    const { client } = clientFor(emu);
    await client.whoAmI();
    emu.addFault({
      match: { method: 'GET', path: '/api/data/v9.2/WhoAmI' },
      response: { status: 401, body: { error: { code: '0x8005F101', message: 'expired' } } },
    });
    const before = emu.stats().tokenRequests;
    const me = await client.whoAmI();
    expect(me.UserId).toBe(emu.applicationUserId);
    expect(emu.stats().tokenRequests).toBe(before + 1);
    expect(apiRequests(emu).map((r) => r.status)).toEqual([200, 401, 200]);
    await client.close();
  });

  it('a persistent 401 after a good token explains the missing application user', async () => {
    const { client } = clientFor(emu);
    emu.configure({ applicationUserMissing: true });
    const err = await client.whoAmI().catch((e) => e);
    expect(err.kind).toBe('auth');
    expect(err.hint).toContain('Application users');
    await client.close();
  });

  it('token endpoint 5xx is retried (MSAL throttling lifted) and the call succeeds', async () => {
    emu.addFault({
      match: { method: 'POST', path: `/${emu.tenantId}/oauth2/v2.0/token` },
      response: { status: 503, body: 'unavailable' },
      times: 2,
    });
    const { client } = clientFor(emu);
    const me = await client.whoAmI();
    expect(me.UserId).toBe(emu.applicationUserId);
    expect(emu.stats().tokenRequests).toBe(3);
    await client.close();
  });

  it('a wrong secret fails fast with the AADSTS fix, without retrying', async () => {
    const { client } = clientFor(emu, { env: { AZURE_CLIENT_SECRET: 'not-the-secret' } });
    const err = await client.whoAmI().catch((e) => e);
    expect(err).toMatchObject({ kind: 'auth', details: { code: 'AADSTS7000215' } });
    expect(err.hint).toContain('Value');
    expect(emu.stats().tokenRequests).toBe(1);
    expect(emu.stats().apiRequests).toBe(0);
    await client.close();
  });

  it('certificate credentials (AZURE_CLIENT_CERTIFICATE_PATH: key and certificate in one PEM)', async () => {
    const pem = await emu.createClientCertificate();
    const file = join(tmpdir(), `dmcp-cert-${process.pid}.pem`);
    writeFileSync(file, pem, { mode: 0o600 });
    const { client } = clientFor(emu, { env: { AZURE_CLIENT_SECRET: '', AZURE_CLIENT_CERTIFICATE_PATH: file } });
    expect(client.tokens.description).toMatch(/^certificate /);
    expect((await client.whoAmI()).UserId).toBe(emu.applicationUserId);
    await client.close();
  });

  it('managed identity: system-assigned and user-assigned (App Service protocol)', async () => {
    process.env.IDENTITY_ENDPOINT = emu.identityEndpoint;
    process.env.IDENTITY_HEADER = emu.identityHeader;
    try {
      const sys = clientFor(emu, {
        env: { AZURE_USE_MANAGED_IDENTITY: 'true', AZURE_CLIENT_ID: '', AZURE_CLIENT_SECRET: '', AZURE_TENANT_ID: '' },
      }).client;
      const user = clientFor(emu, {
        env: {
          AZURE_USE_MANAGED_IDENTITY: 'true',
          AZURE_CLIENT_ID: emu.managedIdentity.userAssignedClientId,
          AZURE_CLIENT_SECRET: '',
        },
      }).client;
      const a = await sys.whoAmI();
      const b = await user.whoAmI();
      expect(a.UserId).not.toBe(b.UserId);
      expect(emu.stats().managedIdentityRequests).toBe(2);
      await Promise.all([sys.close(), user.close()]);
    } finally {
      delete process.env.IDENTITY_ENDPOINT;
      delete process.env.IDENTITY_HEADER;
    }
  });

  it('never writes the secret or a bearer token to the log, even at debug level', async () => {
    const { client, logs } = clientFor(emu);
    await client.whoAmI();
    emu.addFault({ match: { path: '/api/data/v9.2/WhoAmI' }, response: { status: 401 } });
    await client.whoAmI();
    const text = logs.join('');
    expect(text.length).toBeGreaterThan(0);
    expect(text).not.toContain(emu.clientSecret);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/);
    await client.close();
  });
});
