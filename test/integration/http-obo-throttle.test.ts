import { PublicClientApplication } from '@azure/msal-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { startTestEmulator } from '../helpers/emulator.js';
import { type HttpHarness, startHttpServer } from '../helpers/http.js';

// Service protection API limits are counted per user (learn.microsoft.com/power-apps/developer/data-platform/
// api-limits: "limits are evaluated per user"): with on-behalf-of each caller is a user of their own, so one
// caller's 429 must hold that caller's requests and no one else's.
describe('Streamable HTTP with on-behalf-of: each user has their own service-protection window', () => {
  let emu: EmulatorHandle;
  let h: HttpHarness;
  const tokens: string[] = [];
  /** a public client (a new one each time: MSAL's cache would hand back the token it has) */
  const pca = () =>
    new PublicClientApplication({
      auth: {
        clientId: emu.clientId,
        authority: `${emu.authorityHost}/${emu.tenantId}`,
        knownAuthorities: [new URL(emu.authorityHost).host],
      },
    });
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 10 });
    emu.registerApp({ clientId: emu.api.clientId, secret: emu.api.clientSecret, applicationUser: true });
    h = await startHttpServer(
      emu,
      {
        AZURE_CLIENT_ID: emu.api.clientId,
        AZURE_CLIENT_SECRET: emu.api.clientSecret,
        DYNAMICS_MCP_ENTRA_AUDIENCE: emu.api.audience,
        DYNAMICS_MCP_ON_BEHALF_OF: 'true',
      },
      { http: { rateLimitPerMinute: 10_000 } },
    );
    for (const user of emu.users.slice(0, 2))
      tokens.push(
        (await pca().acquireTokenByUsernamePassword({
          username: user.username,
          password: user.password,
          scopes: [`${emu.api.audience}/mcp.read`],
        }))!.accessToken,
      );
  });
  afterAll(async () => {
    await h.close();
    await emu.close();
  });

  it("one user's 429 does not hold another user's calls", async () => {
    const [alex, megan] = [await h.connect(tokens[0]), await h.connect(tokens[1])];
    const [alexId, meganId] = emu.users.slice(0, 2).map((u) => String(u.systemuserid));
    const query = { name: 'query_entities', arguments: { entity: 'account', select: ['name'], top: 1 } };
    // each has read the metadata it needs before the limit is lowered
    for (const c of [alex, megan]) expect((await c.callTool(query)).isError).toBeFalsy();
    const mark = emu.requests().length;
    emu.configure({ limits: { requestsPerWindow: 20, windowMs: 4000 } });
    try {
      const alexCalls = Promise.all(Array.from({ length: 30 }, () => alex.callTool(query)));
      // once Alex has been told to wait, Megan asks
      while (emu.stats().throttled === 0) await new Promise((r) => setTimeout(r, 10));
      const meganCall = await megan.callTool(query);
      expect(meganCall.isError).toBeFalsy();
      expect((await alexCalls).every((r) => !r.isError)).toBe(true);
      const sent = emu
        .requests()
        .slice(mark)
        .filter((r) => r.service === 'webapi');
      const firstThrottled = sent.find((r) => r.status === 429)!;
      expect(firstThrottled.userId).toBe(alexId);
      const meganSent = sent.filter((r) => r.userId === meganId);
      expect(meganSent.map((r) => r.status)).toEqual([200]);
      // Alex's held requests came back after the Retry-After (seconds, so at least one); Megan's went at once
      const alexAfter = sent.filter((r) => r.userId === alexId && r.at! > firstThrottled.at! && r.status === 200);
      expect(alexAfter.length).toBeGreaterThan(0);
      expect(Math.min(...alexAfter.map((r) => r.at!)) - firstThrottled.at!).toBeGreaterThanOrEqual(950);
      expect(meganSent[0]!.at! - firstThrottled.at!).toBeLessThan(900);
    } finally {
      emu.configure({ limits: { requestsPerWindow: 6000, windowMs: 300_000 } });
    }
  });

  it('a user signing in again (a new token) keeps their window: the 429 they were given holds the new token too', async () => {
    // Megan, whose window the test above left alone
    const megan = emu.users[1]!;
    const query = { name: 'query_entities', arguments: { entity: 'account', select: ['name'], top: 1 } };
    const first = await h.connect(tokens[1]);
    expect((await first.callTool(query)).isError).toBeFalsy();
    // her client refreshes her token: a new string for the same user, another on-behalf-of exchange
    await new Promise((r) => setTimeout(r, 1100));
    const again = await pca().acquireTokenByUsernamePassword({
      username: megan.username,
      password: megan.password,
      scopes: [`${emu.api.audience}/mcp.read`],
    });
    expect(again!.accessToken).not.toBe(tokens[1]);
    const second = await h.connect(again!.accessToken);
    expect((await second.callTool(query)).isError).toBeFalsy();
    const mark = emu.requests().length;
    const throttledBefore = emu.stats().throttled;
    emu.configure({ limits: { requestsPerWindow: 20, windowMs: 4000 } });
    try {
      const held = Promise.all(Array.from({ length: 30 }, () => first.callTool(query)));
      // once she has been told to wait, she asks with the new token
      while (emu.stats().throttled === throttledBefore) await new Promise((r) => setTimeout(r, 10));
      const withNewToken = await second.callTool(query);
      expect(withNewToken.isError).toBeFalsy();
      expect((await held).every((r) => !r.isError)).toBe(true);
      const sent = emu
        .requests()
        .slice(mark)
        .filter((r) => r.service === 'webapi' && r.userId === String(megan.systemuserid));
      const firstThrottled = sent.find((r) => r.status === 429)!;
      // nothing of hers went during the Retry-After (seconds, so at least one): with a window of its own, the
      // new token's request went at once and drew a 429 of its own
      const during = sent.filter((r) => r.at! > firstThrottled.at! && r.at! - firstThrottled.at! < 950);
      expect(during).toEqual([]);
    } finally {
      emu.configure({ limits: { requestsPerWindow: 6000, windowMs: 300_000 } });
    }
  });
});
