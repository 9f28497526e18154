import { X509Certificate } from 'node:crypto';
import { ConfidentialClientApplication, ManagedIdentityApplication, PublicClientApplication } from '@azure/msal-node';
import { decodeJwt } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { startTestEmulator } from '../helpers/emulator.js';

// TOKEN and AADERR: the Entra ID client-credentials flow and its documented AADSTS errors, driven by the
// unmodified @azure/msal-node code path (msal-notes.md), trusting the emulator through NODE_EXTRA_CA_CERTS.
describe('authority contract: emulator', () => {
  let emu: EmulatorHandle;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 5 });
  });
  afterAll(async () => emu.close());

  const cca = (
    over: {
      clientId?: string;
      clientSecret?: string;
      tenant?: string;
      cert?: { thumbprintSha256: string; privateKey: string };
    } = {},
  ) =>
    new ConfidentialClientApplication({
      auth: {
        clientId: over.clientId ?? emu.clientId,
        ...(over.cert ? { clientCertificate: over.cert } : { clientSecret: over.clientSecret ?? emu.clientSecret }),
        authority: `${emu.authorityHost}/${over.tenant ?? emu.tenantId}`,
        knownAuthorities: [new URL(emu.authorityHost).host],
      },
    });
  const whoAmI = async (token: string) => {
    const r = await request(`${emu.dynamicsUrl}/api/data/v9.2/WhoAmI()`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: r.statusCode, body: (await r.body.json()) as any };
  };

  it('TOKEN: client credentials with a secret give a Bearer JWT for the org, 3599 s, cached by MSAL afterwards', async () => {
    const app = cca();
    const r = await app.acquireTokenByClientCredential({ scopes: [`${emu.dynamicsUrl}/.default`] });
    expect(r?.tokenType).toBe('Bearer');
    const claims = decodeJwt(r!.accessToken);
    expect(claims.aud).toBe(emu.dynamicsUrl);
    expect(claims.exp! - claims.iat!).toBe(3599);
    expect(claims.appid).toBe(emu.clientId);
    const again = await app.acquireTokenByClientCredential({ scopes: [`${emu.dynamicsUrl}/.default`] });
    expect(again?.fromCache).toBe(true);
    expect((await whoAmI(r!.accessToken)).body.UserId).toBe(emu.applicationUserId);
  });

  it.each([
    ['a wrong secret', 'invalid_client', 7000215, { clientSecret: 'wrong' }],
    ['an unknown app', 'unauthorized_client', 700016, { clientId: '11111111-2222-3333-4444-555555555555' }],
  ] as const)('AADERR: %s gives %s AADSTS%i', async (_label, error, code, over) => {
    const err = await cca(over)
      .acquireTokenByClientCredential({ scopes: [`${emu.dynamicsUrl}/.default`] })
      .catch((e: { errorCode: string; errorMessage: string }) => e);
    expect(err).toMatchObject({ errorCode: error });
    expect((err as { errorMessage: string }).errorMessage).toContain(`AADSTS${code}`);
  });

  it('AADERR: an unknown tenant is AADSTS90002 (MSAL reports it as endpoints_resolution_error)', async () => {
    const tenant = '99999999-2222-3333-4444-555555555555';
    const err = await cca({ tenant })
      .acquireTokenByClientCredential({ scopes: [`${emu.dynamicsUrl}/.default`] })
      .catch((e: { errorCode: string }) => e);
    expect(err).toMatchObject({ errorCode: 'endpoints_resolution_error' });
    const raw = await request(`${emu.authorityHost}/${tenant}/v2.0/.well-known/openid-configuration`);
    expect(raw.statusCode).toBe(400);
    expect(await raw.body.json()).toMatchObject({ error: 'invalid_request', error_codes: [90002] });
  });

  it('AADERR: an unknown resource is AADSTS500011, a scope without /.default AADSTS70011, an expired secret AADSTS7000222', async () => {
    const res = await cca()
      .acquireTokenByClientCredential({ scopes: ['https://other.crm.dynamics.com/.default'] })
      .catch((e: { errorMessage: string }) => e);
    expect((res as { errorMessage: string }).errorMessage).toContain('AADSTS500011');
    const body = new URLSearchParams({
      client_id: emu.clientId,
      client_secret: emu.clientSecret,
      grant_type: 'client_credentials',
      scope: `${emu.dynamicsUrl}/user_impersonation`,
    });
    const raw = await request(`${emu.authorityHost}/${emu.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      body: body.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(raw.statusCode).toBe(400);
    const json = (await raw.body.json()) as any;
    expect(json).toMatchObject({ error: 'invalid_scope', error_codes: [70011] });
    expect(json.error_description).toMatch(
      /^AADSTS70011: .*\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: [0-9a-f-]{36}\r\nTimestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/s,
    );
    expect(json.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    emu.configure({ secretExpired: true });
    try {
      const expired = await cca()
        .acquireTokenByClientCredential({ scopes: [`${emu.dynamicsUrl}/.default`] })
        .catch((e: { errorMessage: string }) => e);
      expect((expired as { errorMessage: string }).errorMessage).toContain('AADSTS7000222');
    } finally {
      emu.configure({ secretExpired: false });
    }
  });

  it('a certificate credential: MSAL signs a client assertion that the authority verifies against the registered certificate', async () => {
    const pem = await emu.createClientCertificate();
    const certPem = pem.slice(pem.indexOf('-----BEGIN CERTIFICATE-----'));
    const thumbprintSha256 = new X509Certificate(certPem).fingerprint256.replace(/:/g, '');
    const privateKey = pem.slice(0, pem.indexOf('-----BEGIN CERTIFICATE-----'));
    const r = await cca({ cert: { thumbprintSha256, privateKey } }).acquireTokenByClientCredential({
      scopes: [`${emu.dynamicsUrl}/.default`],
    });
    expect((await whoAmI(r!.accessToken)).status).toBe(200);
    // a certificate the app never registered is refused
    const other = await (await import('../../src/emulator/tls.js')).createClientCertificate('stranger');
    const err = await cca({
      cert: {
        thumbprintSha256: new X509Certificate(other.cert).fingerprint256.replace(/:/g, ''),
        privateKey: other.key,
      },
    })
      .acquireTokenByClientCredential({ scopes: [`${emu.dynamicsUrl}/.default`] })
      .catch((e: { errorMessage: string }) => e);
    expect((err as { errorMessage: string }).errorMessage).toContain('AADSTS700027');
  });

  it('managed identity (App Service protocol): system- and user-assigned identities get tokens and act as their application users', async () => {
    process.env.IDENTITY_ENDPOINT = emu.identityEndpoint;
    process.env.IDENTITY_HEADER = emu.identityHeader;
    try {
      const system = new ManagedIdentityApplication();
      const r = await system.acquireToken({ resource: emu.dynamicsUrl });
      const me = await whoAmI(r.accessToken);
      expect(me.status).toBe(200);
      const user = new ManagedIdentityApplication({
        managedIdentityIdParams: { userAssignedClientId: emu.managedIdentity.userAssignedClientId },
      });
      const r2 = await user.acquireToken({ resource: emu.dynamicsUrl });
      const me2 = await whoAmI(r2.accessToken);
      expect(me2.status).toBe(200);
      expect(me2.body.UserId).not.toBe(me.body.UserId);
    } finally {
      delete process.env.IDENTITY_ENDPOINT;
      delete process.env.IDENTITY_HEADER;
    }
  });

  it('delegated user tokens (password grant) for the MCP API, exchanged on-behalf-of for a Dataverse token of that user', async () => {
    const alex = emu.users[0]!;
    const pca = new PublicClientApplication({
      auth: {
        clientId: emu.clientId,
        authority: `${emu.authorityHost}/${emu.tenantId}`,
        knownAuthorities: [new URL(emu.authorityHost).host],
      },
    });
    const user = await pca.acquireTokenByUsernamePassword({
      username: alex.username,
      password: alex.password,
      scopes: [`${emu.api.audience}/mcp.tools`],
    });
    const claims = decodeJwt(user!.accessToken);
    expect(claims).toMatchObject({ aud: emu.api.audience, oid: alex.objectId, scp: 'mcp.tools' });
    const api = cca({ clientId: emu.api.clientId, clientSecret: emu.api.clientSecret });
    const obo = await api.acquireTokenOnBehalfOf({
      oboAssertion: user!.accessToken,
      scopes: [`${emu.dynamicsUrl}/.default`],
    });
    expect((await whoAmI(obo!.accessToken)).body.UserId).toBe(alex.systemuserid);
  });

  it('JWKS and OpenID configuration are served for token validation', async () => {
    const conf = (await (
      await request(`${emu.authorityHost}/${emu.tenantId}/v2.0/.well-known/openid-configuration`)
    ).body.json()) as any;
    expect(conf.issuer).toBe(`${emu.authorityHost}/${emu.tenantId}/v2.0`);
    const jwks = (await (await request(conf.jwks_uri)).body.json()) as any;
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', use: 'sig', alg: 'RS256' });
  });

  it('COMPOSE 401s: missing, expired and wrong-audience tokens; a good token without an application user', async () => {
    const call = async (auth?: string) => {
      const r = await request(`${emu.dynamicsUrl}/api/data/v9.2/WhoAmI()`, {
        headers: auth ? { authorization: auth } : {},
      });
      return { status: r.statusCode, challenge: r.headers['www-authenticate'], body: (await r.body.json()) as any };
    };
    const missing = await call();
    expect(missing.status).toBe(401);
    expect(missing.challenge).toContain(`authorization_uri=${emu.authorityHost}/${emu.tenantId}/oauth2/authorize`);
    const expired = await call(
      `Bearer ${await emu.mintToken({ aud: emu.dynamicsUrl, appid: emu.clientId, idtyp: 'app' }, -60)}`,
    );
    expect(expired.status).toBe(401);
    expect(expired.body.error.code).toBe('0x8005F101');
    const wrongAud = await call(
      `Bearer ${await emu.mintToken({ aud: 'https://other.crm.dynamics.com', appid: emu.clientId, idtyp: 'app' })}`,
    );
    expect(wrongAud.status).toBe(401);
    expect(wrongAud.body.error.message).toContain('audience');
    emu.configure({ applicationUserMissing: true });
    try {
      const noUser = await call(
        `Bearer ${await emu.mintToken({ aud: emu.dynamicsUrl, appid: emu.clientId, idtyp: 'app' })}`,
      );
      expect(noUser.status).toBe(401);
      expect(noUser.body.error.message).toContain('application user');
    } finally {
      emu.configure({ applicationUserMissing: false });
    }
  });
});
