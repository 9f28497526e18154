import { Writable } from 'node:stream';
import { loadConfig } from '../src/config/load.js';
import { DynamicsClient } from '../src/dynamics/client.js';
import { startEmulator } from '../src/emulator/index.js';
import { createLogger } from '../src/logging.js';
import { DEFAULT_POLICY } from '../src/policy/default.js';
import { Policy } from '../src/policy/policy.js';
import { SecretScrubber } from '../src/secrets.js';
import { record } from './lib.js';

const QUERIES = 2000;
const LIMIT = 500; // requests per window, scaled down from 6,000
const WINDOW_MS = 5000; // from 300 s

/** P9: 2,000 queries against service-protection limits scaled down in the emulator. */
export async function benchThrottle(): Promise<void> {
  process.stdout.write(`${QUERIES} queries against a limit of ${LIMIT} requests per ${WINDOW_MS / 1000} s\n`);
  const emu = await startEmulator({ scale: 50, limits: { requestsPerWindow: LIMIT, windowMs: WINDOW_MS } });
  try {
    const config = loadConfig({
      env: {
        DYNAMICS_URL: emu.dynamicsUrl,
        AZURE_AUTHORITY_HOST: emu.authorityHost,
        AZURE_TENANT_ID: emu.tenantId,
        AZURE_CLIENT_ID: emu.clientId,
        AZURE_CLIENT_SECRET: emu.clientSecret,
      },
      overrides: { dynamics: { deadlineMs: 120_000 } } as never,
    });
    const client = DynamicsClient.create(
      config,
      Policy.fromInput(DEFAULT_POLICY),
      createLogger('silent', new SecretScrubber(), { destination: new Writable({ write: (_c, _e, cb) => cb() }) }),
      { ca: emu.ca },
    );
    await client.metadata.entity('account');
    await emu.reset(); // a fresh window for the measured run
    let failures = 0;
    const t = performance.now();
    await Promise.all(
      Array.from({ length: QUERIES }, (_, i) =>
        client
          .query({
            entity: 'account',
            select: ['name'],
            top: 1,
            where: { column: 'accountnumber', op: 'eq', value: `ACC-${10000 + (i % 50)}` },
          })
          .catch(() => {
            failures++;
          }),
      ),
    );
    const took = performance.now() - t;
    // a sliding window lets LIMIT requests through at once and LIMIT more each window after
    const minimum = (Math.ceil(QUERIES / LIMIT) - 1) * WINDOW_MS;
    record({
      id: 'P9',
      name: `${QUERIES} queries under service protection: failures`,
      value: failures,
      unit: 'failures',
      baseline: null,
      goal: '0 failures and <= 1.1x the minimum time (P9t)',
      met: failures === 0 && took <= 1.1 * minimum,
    });
    record({
      id: 'P9t',
      name: `… total time vs the minimum the limit allows (${emu.stats().throttled} 429s seen)`,
      value: took,
      unit: 'ms',
      baseline: minimum,
      goal: '<= 1.1x',
      met: took <= 1.1 * minimum,
    });
    await client.close();
  } finally {
    await emu.close();
  }
}
