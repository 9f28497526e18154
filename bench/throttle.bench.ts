import { startEmulator } from '../src/emulator/index.js';
import { record } from './lib.js';
import { benchClient } from './setup.js';

const QUERIES = 2000;
const LIMIT = 500; // requests per window, scaled down from 6,000
const WINDOW_MS = 5000; // from 300 s

/** P9: 2,000 queries against service-protection limits scaled down in the emulator. */
export async function benchThrottle(): Promise<void> {
  process.stdout.write(`${QUERIES} queries against a limit of ${LIMIT} requests per ${WINDOW_MS / 1000} s\n`);
  const emu = await startEmulator({ scale: 50, limits: { requestsPerWindow: LIMIT, windowMs: WINDOW_MS } });
  try {
    const client = benchClient(emu, { overrides: { deadlineMs: 120_000 } });
    // metadata first (table list and account), so that every request in the measured run is a query
    await client.metadata.entities();
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
