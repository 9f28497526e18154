import { Writable } from 'node:stream';
import { type Agent, request } from 'undici';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import type { DynamicsClient } from '../src/dynamics/client.js';
import { createDynamicsClient } from '../src/dynamics/create-client.js';
import type { EmulatorHandle } from '../src/emulator/index.js';
import { createLogger } from '../src/logging.js';
import { DEFAULT_POLICY } from '../src/policy/default.js';
import { Policy } from '../src/policy/policy.js';
import type { PolicyInput } from '../src/policy/schema.js';
import { SecretScrubber } from '../src/secrets.js';

/** The environment a user would set for the emulator's tenant and app. */
export function emulatorEnv(emu: EmulatorHandle): Record<string, string> {
  return { ...emu.env, LOG_LEVEL: 'warn' };
}

export const silentLogger = () =>
  createLogger('silent', new SecretScrubber(), { destination: new Writable({ write: (_c, _e, cb) => cb() }) });

/** Our client against the emulator, trusting its CA directly (benchmarks run in one process with it). */
export function benchClient(
  emu: EmulatorHandle,
  opts: { overrides?: Partial<Config['dynamics']>; policy?: PolicyInput } = {},
): DynamicsClient {
  const config = loadConfig({ env: emulatorEnv(emu), overrides: { dynamics: opts.overrides } as never });
  return createDynamicsClient(config, Policy.fromInput(opts.policy ?? DEFAULT_POLICY), silentLogger(), { ca: emu.ca });
}

/** A token the way a hand-written baseline gets one: one client-credentials POST. */
export async function directToken(emu: EmulatorHandle, agent: Agent): Promise<string> {
  const r = await request(`${emu.authorityHost}/${emu.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: emu.clientId,
      client_secret: emu.clientSecret,
      grant_type: 'client_credentials',
      scope: `${emu.dynamicsUrl}/.default`,
    }).toString(),
  });
  return ((await r.body.json()) as { access_token: string }).access_token;
}
