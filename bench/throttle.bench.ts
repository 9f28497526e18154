import type { DynamicsClient } from '../src/dynamics/client.js';
import { startEmulator } from '../src/emulator/index.js';
import { record } from './lib.js';
import { benchClient } from './setup.js';

const QUERIES = 2000;
const LIMIT = 500; // requests per window, scaled down from 6,000
const WINDOW_MS = 5000; // from 300 s

/** The 2,000 queries at once; their failures and wall time. */
async function burst(client: DynamicsClient): Promise<{ failures: number; took: number }> {
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
  return { failures, took: performance.now() - t };
}

/**
 * P9: 2,000 queries against service-protection limits scaled down in the emulator, each run from a fresh
 * window. The goal is on the second run: as in P1 and P5, the measured run comes after the same work once,
 * since V8 runs the query path two to three times slower for its first few hundred calls, which is not
 * what P9 asks about (P9c, the first run, is printed beside it).
 */
export async function benchThrottle(): Promise<void> {
  process.stdout.write(`${QUERIES} queries against a limit of ${LIMIT} requests per ${WINDOW_MS / 1000} s\n`);
  const emu = await startEmulator({ scale: 50, limits: { requestsPerWindow: LIMIT, windowMs: WINDOW_MS } });
  try {
    const client = benchClient(emu, { overrides: { deadlineMs: 120_000 } });
    // metadata first (table list and account), so that every request in the measured run is a query
    await client.metadata.entities();
    await client.metadata.entity('account');
    await emu.reset(); // a fresh window for each run
    const cold = await burst(client);
    const coldThrottled = emu.stats().throttled;
    await emu.reset();
    const warm = await burst(client);
    const failures = cold.failures + warm.failures;
    // a sliding window lets LIMIT requests through at once and LIMIT more each window after
    const minimum = (Math.ceil(QUERIES / LIMIT) - 1) * WINDOW_MS;
    record({
      id: 'P9',
      name: `${QUERIES} queries under service protection, twice: failures`,
      value: failures,
      unit: 'failures',
      baseline: null,
      goal: '0 failures and <= 1.1x the minimum time (P9t)',
      met: failures === 0 && warm.took <= 1.1 * minimum,
    });
    record({
      id: 'P9t',
      name: `… total time of the second run vs the minimum the limit allows (${emu.stats().throttled} 429s seen)`,
      value: warm.took,
      unit: 'ms',
      baseline: minimum,
      goal: '<= 1.1x',
      met: warm.took <= 1.1 * minimum,
    });
    record({
      id: 'P9c',
      name: `… the first run, while V8 compiles the query path (${coldThrottled} 429s seen)`,
      value: cold.took,
      unit: 'ms',
      baseline: minimum,
      goal: null,
      met: null,
    });
    await client.close();
  } finally {
    await emu.close();
  }
}
