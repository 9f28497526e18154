import { Writable } from 'node:stream';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createTokenProvider } from '../../src/dynamics/auth.js';
import { createMsalNetworkClient } from '../../src/dynamics/msal-network.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { createLogger } from '../../src/logging.js';
import { SecretScrubber } from '../../src/secrets.js';
import { emulatorEnv } from '../helpers/client.js';
import { startTestEmulator } from '../helpers/emulator.js';

// Refresh before expiry, in the background, and keep serving the still-valid token when the refresh fails
// (MSAL alone would throw for up to 60 s after a 5xx from the authority; msal-notes.md §5).
describe('token provider: early background refresh', () => {
  let emu: EmulatorHandle;
  const agent = new Agent();
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 2 });
  });
  afterAll(async () => {
    await agent.close();
    await emu.close();
  });

  const provider = (marginMs: number) => {
    const config = loadConfig({ env: emulatorEnv(emu) });
    const logs: string[] = [];
    const logger = createLogger('debug', new SecretScrubber(), {
      destination: new Writable({
        write: (c, _e, cb) => {
          logs.push(String(c));
          cb();
        },
      }),
    });
    return {
      tokens: createTokenProvider(config.auth, {
        dynamicsUrl: config.dynamics.url,
        network: createMsalNetworkClient(agent),
        logger,
        refreshMarginMs: marginMs,
      }),
      logs,
    };
  };

  it('inside the refresh margin, callers get the current token at once while one refresh runs in the background', async () => {
    await emu.reset();
    const { tokens } = provider(3_600_000); // a 3,599 s token is "nearly expired" at once
    const first = await tokens.getToken();
    expect(emu.stats().tokenRequests).toBe(1);
    const again = await Promise.all(Array.from({ length: 20 }, () => tokens.getToken()));
    expect(new Set(again)).toEqual(new Set([first]));
    await new Promise((r) => setTimeout(r, 300));
    expect(emu.stats().tokenRequests).toBe(2); // one background refresh for twenty callers
  });

  it('a failing background refresh keeps the still-valid token in service', async () => {
    await emu.reset();
    const { tokens, logs } = provider(3_600_000);
    const first = await tokens.getToken();
    emu.addFault({
      match: { method: 'POST', path: `/${emu.tenantId}/oauth2/v2.0/token` },
      response: { status: 503 },
      times: 20,
    });
    for (let i = 0; i < 5; i++) expect(await tokens.getToken()).toBe(first);
    await new Promise((r) => setTimeout(r, 2500));
    expect(await tokens.getToken()).toBe(first);
    expect(logs.join('')).toContain('background token refresh failed; still serving the current token');
    emu.clearFaults();
  });
});
