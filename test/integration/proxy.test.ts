import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctor } from '../../src/cli/doctor.js';
import { loadConfig } from '../../src/config/load.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { emulatorEnv } from '../helpers/client.js';
import { startTestEmulator } from '../helpers/emulator.js';
import { connectInMemory, textOf } from '../helpers/mcp.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';

// A corporate proxy between the server and Microsoft: HTTPS_PROXY / HTTP_PROXY / NO_PROXY, read as curl and
// undici read them, apply to Dataverse and the token endpoint alike; NO_PROXY defaults to loopback.
describe('outbound proxy', () => {
  let emu: EmulatorHandle;
  let open: TestProxy;
  let locked: TestProxy;
  const hostOf = (url: string) => new URL(url).host;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 5 });
    open = await startTestProxy();
    locked = await startTestProxy({ credentials: 'svc-mcp:Pr0xy-pass-word' });
  });
  afterAll(async () => {
    await open.close();
    await locked.close();
    await emu.close();
  });

  it('with HTTPS_PROXY set, the token endpoint and Dataverse are both reached through it', async () => {
    open.tunnels.length = 0;
    const h = await connectInMemory(emu, { env: { HTTPS_PROXY: open.url, NO_PROXY: 'nothing.invalid' } });
    try {
      const r = await h.call('query_entities', { entity: 'account', top: 2, select: ['name'] });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(new Set(open.tunnels)).toEqual(new Set([hostOf(emu.authorityHost), hostOf(emu.dynamicsUrl)]));
    } finally {
      await h.close();
    }
  });

  it('without NO_PROXY, loopback addresses (the demo organisation) are reached directly', async () => {
    open.tunnels.length = 0;
    const h = await connectInMemory(emu, { env: { https_proxy: open.url } });
    try {
      const r = await h.call('query_entities', { entity: 'account', top: 1 });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(open.tunnels).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('a proxy that wants credentials: without them the error says so; with them in the URL the call works and the password stays out of the logs', async () => {
    const port = new URL(locked.url).port;
    const without = await connectInMemory(emu, {
      env: { HTTPS_PROXY: locked.url, NO_PROXY: 'nothing.invalid' },
    });
    try {
      const r = await without.call('query_entities', { entity: 'account', top: 1 });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(
        /The proxy \(HTTPS_PROXY\) refused to open a connection to 127\.0\.0\.1:\d+: HTTP 407\./,
      );
      expect(textOf(r)).toContain('The proxy wants credentials: put them in the proxy URL');
    } finally {
      await without.close();
    }
    const withCreds = await connectInMemory(emu, {
      env: { HTTPS_PROXY: `http://svc-mcp:Pr0xy-pass-word@127.0.0.1:${port}`, NO_PROXY: 'nothing.invalid' },
    });
    try {
      const r = await withCreds.call('query_entities', { entity: 'account', top: 1 });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(locked.tunnels.length).toBeGreaterThan(0);
      // the scrubber knows the password, should anything ever echo the proxy URL
      withCreds.deps.log.info({ proxy: `http://svc-mcp:Pr0xy-pass-word@127.0.0.1:${port}` }, 'echo');
      expect(withCreds.logs.join('\n')).not.toContain('Pr0xy-pass-word');
    } finally {
      await withCreds.close();
    }
  });

  it('doctor says which proxy it goes through (password hidden) and passes through it', async () => {
    const port = new URL(locked.url).port;
    const checks = await runDoctor({
      ...emulatorEnv(emu),
      HTTPS_PROXY: `http://svc-mcp:Pr0xy-pass-word@127.0.0.1:${port}`,
      NO_PROXY: 'nothing.invalid',
    });
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.find((c) => c.name === 'Proxy')?.detail).toBe(
      `Requests go through http://svc-mcp:***@127.0.0.1:${port} (except nothing.invalid).`,
    );
  });

  it('a proxy setting that is not a URL is a configuration error that shows the form', () => {
    expect(() => loadConfig({ env: { ...emulatorEnv(emu), HTTPS_PROXY: 'proxy.contoso.com 8080' } })).toThrow(
      /HTTPS_PROXY must be a URL such as http:\/\/proxy\.contoso\.com:8080\./,
    );
  });
});
