import { AuditLog } from './audit.js';
import { type ConfigSources, loadConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import { createDynamicsClient } from './dynamics/create-client.js';
import { proxyPasswords } from './dynamics/dispatcher.js';
import type { EmulatorHandle } from './emulator/index.js';
import { createLogger } from './logging.js';
import { Policy } from './policy/policy.js';
import { SecretScrubber } from './secrets.js';
import { createDeps, type ServerDeps } from './server.js';

/** Wires config → logger, policy, client and audit log: the dependencies every transport serves. */
export function buildDeps(
  config: Readonly<Config>,
  opts: { ca?: string; logDestination?: NodeJS.WritableStream } = {},
): ServerDeps {
  const scrubber = new SecretScrubber();
  if (config.auth.mode === 'secret') scrubber.register(config.auth.clientSecret);
  scrubber.register(config.cursorKey);
  // a proxy URL can carry credentials (http://user:password@proxy:8080)
  for (const url of [config.proxy.https, config.proxy.http]) for (const p of proxyPasswords(url)) scrubber.register(p);
  // hosted mode's API keys are credentials too: never echoed in a log line or a result
  for (const key of [...config.inbound.apiKeys, ...config.inbound.readApiKeys]) scrubber.register(key);
  const log = createLogger(config.logLevel, scrubber, { destination: opts.logDestination });
  const policy = Policy.load(config.policy.path, config.policy.readOnly);
  const client = createDynamicsClient(config, policy, log, { ca: opts.ca });
  return createDeps({
    config,
    client,
    policy,
    log,
    audit: new AuditLog(policy, log, config.auditLog, scrubber),
    scrubber,
  });
}

/** Settings a user may still choose for the demo; credentials and URLs come from the built-in organisation. */
const DEMO_PASSTHROUGH = [
  'LOG_LEVEL',
  'DYNAMICS_MCP_READ_ONLY',
  'DYNAMICS_MCP_POLICY',
  'DYNAMICS_MCP_AUDIT_LOG',
  'DYNAMICS_MCP_CONFIG',
  // to try a client's API-key set-up against the demo: with keys, the demo asks for them
  'DYNAMICS_MCP_API_KEYS',
  'DYNAMICS_MCP_READ_API_KEYS',
  'PORT',
];

export interface Demo {
  emulator: EmulatorHandle;
  config: Readonly<Config>;
  ca: string;
  /** the environment `config` was read from: the user's demo settings and the organisation's address and app */
  env: Readonly<Record<string, string | undefined>>;
}

/** The built-in demo organisation: the emulator started in this process, and a config that points at it. */
export async function startDemo(
  env: Record<string, string | undefined>,
  flags: ConfigSources['flags'] = {},
  mode: { http?: boolean } = {},
): Promise<Demo> {
  // loaded only for the demo: the emulator's certificate and token code is not needed otherwise
  const { startEmulator } = await import('./emulator/index.js');
  const emulator = await startEmulator({ scale: Number(env.DEMO_SCALE ?? 60) || 60 });
  const passthrough = Object.fromEntries(DEMO_PASSTHROUGH.map((k) => [k, env[k]]));
  const demoEnv = {
    ...passthrough,
    ...emulator.env,
    // the demo's HTTP endpoint is for this machine only: loopback, and no inbound credentials unless
    // API keys were given (an explicit ask, which must not be ignored)
    ...(mode.http && !env.DYNAMICS_MCP_API_KEYS && !env.DYNAMICS_MCP_READ_API_KEYS
      ? { DYNAMICS_MCP_AUTH: 'none' }
      : {}),
  };
  try {
    const config = loadConfig({
      env: demoEnv,
      flags: mode.http ? { ...flags, host: flags?.host ?? '127.0.0.1' } : flags,
    });
    return { emulator, config, ca: emulator.ca, env: demoEnv };
  } catch (err) {
    await emulator.close();
    throw err;
  }
}
