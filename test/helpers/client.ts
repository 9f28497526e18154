import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import type { DynamicsClient } from '../../src/dynamics/client.js';
import { createDynamicsClient } from '../../src/dynamics/create-client.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { createLogger } from '../../src/logging.js';
import { DEFAULT_POLICY } from '../../src/policy/default.js';
import { Policy } from '../../src/policy/policy.js';
import type { PolicyInput } from '../../src/policy/schema.js';
import { SecretScrubber } from '../../src/secrets.js';
import { watchTexts } from './secrets-watch.js';

/** The environment a user would set for the emulator's tenant and app. */
export function emulatorEnv(emu: EmulatorHandle, extra: Record<string, string> = {}): Record<string, string> {
  return { ...emu.env, ...extra };
}

export interface TestClient {
  client: DynamicsClient;
  config: Readonly<Config>;
  /** every log line written, as text */
  logs: string[];
  scrubber: SecretScrubber;
}

/** A real DynamicsClient against the emulator: real MSAL, real HTTPS, trust through NODE_EXTRA_CA_CERTS only. */
export function clientFor(
  emu: EmulatorHandle,
  opts: {
    policy?: PolicyInput;
    env?: Record<string, string>;
    overrides?: Parameters<typeof loadConfig>[0]['overrides'];
  } = {},
): TestClient {
  const config = loadConfig({
    env: { ...emulatorEnv(emu), LOG_LEVEL: 'debug', ...opts.env },
    overrides: opts.overrides,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  watchTexts('client log', () => logs);
  const scrubber = new SecretScrubber();
  if (config.auth.mode === 'secret') scrubber.register(config.auth.clientSecret);
  const logger = createLogger(config.logLevel, scrubber, { pretty: false, destination: sink });
  const policy = Policy.fromInput(opts.policy ?? DEFAULT_POLICY, config.policy.readOnly);
  return { client: createDynamicsClient(config, policy, logger), config, logs, scrubber };
}

/** The Web API writes (every method but GET) the emulator saw since `since`: a refusal must send none. */
export const writesSince = (emu: EmulatorHandle, since = 0) =>
  apiRequests(emu, since).filter((r) => r.method !== 'GET');

/** Web API requests the emulator saw since `since` (an index into its log). */
export function apiRequests(emu: EmulatorHandle, since = 0) {
  return emu
    .requests()
    .slice(since)
    .filter((r) => r.service === 'webapi');
}
